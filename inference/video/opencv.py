"""OpenCV backend of inference.video: used when PyAV is not installed or cannot open a file.

OpenCV's FFmpeg backend applies the rotation metadata itself and reports each frame's pts as
CAP_PROP_POS_MSEC, so rotation and variable frame rate behave as with PyAV; grab() without retrieve()
skips the colour conversion of frames that are not key-frames.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import VideoError
from .types import Event, KeyFrame, Plan, Seen, StreamDamaged, VideoInfo


def open_capture(path: Path) -> Any:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"Cannot open {path}: it is not a video OpenCV/FFmpeg can read", path=path)
    return cap


def probe(path: Path) -> VideoInfo:
    cap = open_capture(path)
    try:
        ok, frame = cap.read()
        if not ok:
            raise VideoError(f"{path} contains no decodable video frames", path=path, frames_read=0)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        rot = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
        codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") or "unknown"
        h, w = frame.shape[:2]  # already rotated to display orientation
        return VideoInfo(path, w, h, fps, n, rot, n / fps if fps > 0 else 0.0, codec)
    finally:
        cap.release()


class OpenCVSource:
    """A clip opened with OpenCV's FFmpeg backend."""

    name = "opencv"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.info = probe(path)
        self._cap: Any = open_capture(path)

    def events(self, plan: Plan, stop: threading.Event) -> Iterator[Event]:
        cap = self._cap
        fps = self.info.fps or 30.0
        last = -math.inf
        count = 0
        while not stop.is_set():
            t = count
            if not cap.grab():
                break
            count += 1
            sec = float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            if not math.isfinite(sec) or sec <= last:
                sec = (last + 1.0 / fps) if t > 0 else 0.0
            last = sec
            yield Seen(t, sec)
            if plan.wants(t):
                ok, bgr = cap.retrieve()
                if not ok:
                    raise StreamDamaged(t, "OpenCV could not decode the frame")
                yield KeyFrame(t, sec, np.ascontiguousarray(bgr[:, :, ::-1]))
            if plan.stop is not None and t + 1 >= plan.stop:
                return
        n = self.info.frame_count
        if n and count < n - 1 and not stop.is_set():
            raise StreamDamaged(count, f"the file ends after {count} of {n} frames")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
