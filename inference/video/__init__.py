"""Video in: probe a clip and stream its key-frames as RGB (PyAV, OpenCV as the fallback).

reader.py  KeyFrameReader / probe: the public API; keeps the books (timestamps, frames read, damage)
types.py   VideoInfo, KeyFrame, Plan and the events a backend reports
pyav.py    the PyAV backend (pts-indexed skipping of unused B-frames)
opencv.py  the OpenCV backend
"""

from __future__ import annotations

from .reader import KeyFrameReader, open_source, probe
from .types import KeyFrame, VideoInfo

__all__ = ["KeyFrame", "KeyFrameReader", "VideoInfo", "open_source", "probe"]
