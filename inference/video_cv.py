"""OpenCV backend of inference.video: used when PyAV is not installed or cannot open a file.

OpenCV's FFmpeg backend applies the rotation metadata itself and reports each frame's pts as
CAP_PROP_POS_MSEC, so rotation and variable frame rate behave as with PyAV; grab() without retrieve()
skips the colour conversion of frames that are not key-frames.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from .video import KeyFrame, VideoInfo, video_error

if TYPE_CHECKING:  # pragma: no cover
    from .video import KeyFrameReader


def open_capture(path: Path) -> Any:
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise video_error(f"Cannot open {path}: it is not a video OpenCV/FFmpeg can read", path)
    return cap


def probe(path: Path) -> VideoInfo:
    import cv2

    cap = open_capture(path)
    try:
        ok, frame = cap.read()
        if not ok:
            raise video_error(f"{path} contains no decodable video frames", path, 0)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        rot = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
        codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") or "unknown"
        h, w = frame.shape[:2]  # already rotated to display orientation
        return VideoInfo(path, w, h, fps, n, rot, n / fps if fps > 0 else 0.0, codec)
    finally:
        cap.release()


def decode(r: "KeyFrameReader", cap: Any) -> Iterator[KeyFrame]:
    import cv2

    fps = r.info.fps or 30.0
    last = -math.inf
    while not r._stop_event.is_set():
        t = r.frames_read
        if not cap.grab():
            break
        r.frames_read += 1
        sec = float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
        if not math.isfinite(sec) or sec <= last:
            sec = (last + 1.0 / fps) if t > 0 else 0.0
        last = sec
        if t < r.start:
            continue
        r.timestamps.append(sec)
        if r._want(t):
            ok, bgr = cap.retrieve()
            if not ok:
                raise r._fail(t, "OpenCV could not decode the frame")
            yield KeyFrame(t, sec, np.ascontiguousarray(bgr[:, :, ::-1]))
        if r.stop is not None and t + 1 >= r.stop:
            return
    n = r.info.frame_count
    if n and r.frames_read < n - 1 and not r._stop_event.is_set():
        raise r._fail(r.frames_read, f"the file ends after {r.frames_read} of {n} frames")
