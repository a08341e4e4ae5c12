"""Faulty clips made from the shared dance clip: a cut to black, the person cropped away, the legs pushed
out of the frame, two people crossing. Written small and fast (x264 ultrafast, <= 90 frames)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np
from conftest import SHARED
from test_video import write_clip

DANCE = SHARED / "videos" / "02_dance_tfjs_576x576.mp4"


@lru_cache(maxsize=1)
def _dance() -> tuple[np.ndarray, ...]:
    with av.open(str(DANCE)) as c:
        return tuple(f.to_ndarray(format="rgb24") for f in c.decode(video=0))


def dance(n: int = 90) -> list[np.ndarray]:
    return [f.copy() for f in _dance()[:n]]


def blacked_out(path: Path, a: int, b: int, n: int = 90) -> Path:
    """Frames a..b-1 cut to black (the person leaves the picture for a second)."""
    frames = dance(n)
    for i in range(a, b):
        frames[i][:] = 0
    return write_clip(path, frames)


def cropped_away(path: Path, a: int, b: int, n: int = 90) -> Path:
    """Frames a..b-1 show only the empty left part of the room (the camera panned off the person)."""
    frames = dance(n)
    for i in range(a, b):
        empty = frames[i][:, :150]
        frames[i] = np.ascontiguousarray(np.tile(empty, (1, 4, 1))[:, :576])
    return write_clip(path, frames)


def legs_out(path: Path, a: int, b: int, dy: int = 170, ramp: int = 10, n: int = 90) -> Path:
    """The camera tilts up: frames a..b-1 shifted down by dy pixels (reached over `ramp` frames before a
    and left over `ramp` frames after b), so the feet (and at times the knees) leave the frame at the bottom."""
    frames = dance(n)
    for i in range(max(0, a - ramp), min(n, b + ramp)):
        k = int(round(dy * min(1.0, (i - a + ramp) / ramp, (b + ramp - 1 - i) / ramp)))
        if k <= 0:
            continue
        f = frames[i]
        shifted = np.empty_like(f)
        shifted[k:] = f[:-k]
        shifted[:k] = f[:1]  # the ceiling's edge row, stretched
        frames[i] = shifted
    return write_clip(path, frames)


def crossing(path: Path, n: int = 90, width: int = 1152) -> tuple[Path, np.ndarray]:
    """Two dancers in their own windows cross the frame in opposite directions; the larger one (A) passes
    in front at frame ~n/2. Returns the clip and A's window centre x per frame (where A's pelvis is)."""
    src = dance(n)
    strip = slice(150, 430)
    a_w = strip.stop - strip.start
    b_h, b_w = int(576 * 0.85), int(a_w * 0.85)
    a_x = np.linspace(0, width - a_w, n).round().astype(int)
    b_x = np.linspace(width - b_w, 0, n).round().astype(int)
    out = []
    for i in range(n):
        canvas = np.full((576, width, 3), 96, np.uint8)
        b = cv2.resize(
            np.ascontiguousarray(src[(i + 40) % n][:, strip][:, ::-1]), (b_w, b_h), interpolation=cv2.INTER_AREA
        )
        canvas[576 - b_h :, b_x[i] : b_x[i] + b_w] = b
        canvas[:, a_x[i] : a_x[i] + a_w] = src[i][:, strip]
        out.append(canvas)
    return write_clip(path, out), a_x + a_w / 2 + (285 - (strip.start + strip.stop) / 2)
