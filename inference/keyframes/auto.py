"""Adaptive key-frames (`--stride auto`): a sparse first pass, then key-frames added where the 2D moved.

Why: MediaPipe is the expensive stage, and a fixed stride spends it evenly. A still stretch needs few
key-frames; a kick between two key-frames ten frames apart is lost. The seed paper notes that the input
rate could follow the motion speed; `uplift()` already takes key-frames at any times, so only the choice
of frames is needed. The rule (`refine`) is a pure function of the 2D seen so far, so the benchmark
(bench/adaptive_stride.py) and the tests run exactly what the pipeline runs, on synthetic 2D.

How: pass 1 runs MediaPipe on every `base`-th frame (`base_seconds` apart at the clip's rate, `at_fps`).
Between two neighbouring key-frames where the person moved more than `threshold` body heights,
ceil(motion / threshold) - 1 frames are added, evenly spaced
(never closer than `min_gap`); a later pass decodes only those frames and checks the new, shorter intervals
again (bisection with a proportional first step), at most `passes` passes in all. Motion is measured on
the pose (joints relative to the pelvis) plus the pelvis' own travel, in body heights, so it does not depend
on the image size or how far away the person is. Neighbouring spacings are kept within `grade` x of each
other across each refined interval's borders (the lifter was trained on near-even spacing; an abrupt
20 -> 2 change costs more than it gains).
Where the person was found on one side of an interval only, its middle is fetched too, to find where the
person was lost or came back.

What it buys (BENCHMARKS.md, synthetic clips): on still footage 2.3x fewer MediaPipe calls than stride 10
at the same error; on fast footage more calls than stride 10 and a lower error, but *not* a lower error
than the same number of calls spread evenly: placing key-frames by motion does not beat even spacing with
this lifter (bench/adaptive_limits.py: every frame is only ~3 % better than even spacing at auto's cost,
and a ground-truth oracle that moves calls between seconds loses to even spacing). A motion that starts
and ends between two first-pass key-frames (0.8 s apart) is not seen at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..skeleton import INDEX

_PELVIS, _THORAX = INDEX["Pelvis"], INDEX["Thorax"]
Observe = Callable[[list[int]], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class AutoStride:
    """Settings of `--stride auto` (defaults chosen on training-split mocap, see BENCHMARKS.md; the first
    pass moved from 20 frames to 0.8 s = 24 frames at 30 fps when the landmark model was remeasured)."""

    base: int = 24  # stride of the first pass, frames (the pipeline sets it from base_seconds, `at_fps`)
    threshold: float = 0.2  # body heights of 2D motion between neighbouring key-frames that asks for more
    min_gap: int = 2  # frames: added key-frames are never closer than this
    passes: int = 3  # passes over the clip at most, the first included
    root_weight: float = 0.5  # how much the pelvis' own travel counts next to the pose change
    edges: bool = True  # fetch the middle of an interval with the person on one side only
    grade: float = 1.5  # neighbouring key-frame spacings differ by at most this factor (<= 1: off)
    base_seconds: float | None = 0.8  # first-pass spacing in seconds for a clip's rate; None: `base` frames

    def __post_init__(self) -> None:
        if self.base < 1 or self.min_gap < 1 or self.passes < 1 or not self.threshold > 0:
            raise ValueError(f"invalid AutoStride settings: {self}")
        if self.base_seconds is not None and not self.base_seconds > 0:
            raise ValueError(f"invalid AutoStride settings: {self}")

    def at_fps(self, fps: float) -> AutoStride:
        """These settings for a clip of `fps` frames per second: the first pass `base_seconds` apart (why: a
        still second costs the same calls at 5 fps and at 60 fps; a fixed 30 frames would be 6 s at 5 fps,
        long enough to miss whole squats). An unknown rate keeps `base`."""
        if self.base_seconds is None or not (fps and math.isfinite(fps) and fps > 0):
            return self
        return replace(self, base=max(self.min_gap, round(self.base_seconds * fps)))


def body_scale(points: np.ndarray) -> np.ndarray:
    """About the body height in pixels, [..., 17, 2] -> [...]: from the torso (steady while limbs swing),
    bounded below by the joints' bounding box for a torso foreshortened by bending."""
    torso = np.linalg.norm(points[..., _THORAX, :] - points[..., _PELVIS, :], axis=-1)
    box = np.linalg.norm(np.nanmax(points, axis=-2) - np.nanmin(points, axis=-2), axis=-1)
    return np.maximum(3.0 * torso, 0.6 * box) + 1e-6


def motion(a: np.ndarray, b: np.ndarray, root_weight: float = 0.5) -> float:
    """2D motion between two poses [17, 2] in body heights: the second-largest joint displacement relative
    to the pelvis (one bad joint does not count) plus root_weight x the pelvis' travel."""
    ra, rb = a - a[_PELVIS], b - b[_PELVIS]
    d = np.sort(np.linalg.norm(rb - ra, axis=-1))[-2]
    root = float(np.linalg.norm(b[_PELVIS] - a[_PELVIS]))
    scale = 0.5 * float(body_scale(a) + body_scale(b))
    return (float(d) + root_weight * root) / scale


def interval_motion(keys: np.ndarray, points: np.ndarray, root_weight: float = 0.5) -> np.ndarray:
    """Motion between each pair of neighbouring key-frames [K-1] (NaN where either side is missing)."""
    found = np.isfinite(points).all(axis=(1, 2))
    out = np.full(max(len(keys) - 1, 0), np.nan)
    for i in range(len(out)):
        if found[i] and found[i + 1]:
            out[i] = motion(points[i], points[i + 1], root_weight)
    return out


def refine(keys: Sequence[int], points: np.ndarray, n_frames: int, cfg: AutoStride) -> list[int]:
    """Frames to fetch next, given the key-frames so far (sorted rows) and their 2D [K, 17, 2] (NaN rows
    where the person was not found). Empty: nothing more is worth a MediaPipe call."""
    keys = np.asarray(keys, dtype=np.int64)
    found = np.isfinite(points).all(axis=(1, 2))
    moved = interval_motion(keys, points, cfg.root_weight)
    gaps = np.diff(keys)
    room = np.maximum(gaps // cfg.min_gap - 1, 0)  # frames that fit at min_gap spacing
    add = np.zeros(len(gaps), np.int64)
    with np.errstate(invalid="ignore"):
        fast = moved > cfg.threshold
    add[fast] = np.ceil(moved[fast] / cfg.threshold).astype(np.int64) - 1
    if cfg.edges:
        add[(found[:-1] != found[1:]) & (gaps >= 2 * cfg.min_gap)] = 1
    add = np.minimum(add, room)
    if cfg.grade > 1:
        add = _graded(add, gaps, room, np.isfinite(moved), cfg.grade)
    new: set[int] = set()
    for a, b, n in zip(keys[:-1], keys[1:], add):
        new.update(int(a + round((b - a) * k / (n + 1))) for k in range(1, n + 1))
    last = int(keys[-1]) if len(keys) else -1
    if len(keys) and found[-1] and n_frames - 1 - last >= max(cfg.min_gap, cfg.base // 2):
        new.add(n_frames - 1)  # the tail would otherwise hold the last pose
    return sorted(new - set(keys.tolist()))


def _graded(add: np.ndarray, gaps: np.ndarray, room: np.ndarray, measured: np.ndarray, grade: float) -> np.ndarray:
    """Add frames where an interval's spacing would be more than `grade` times its neighbour's: the lifter
    was trained on (nearly) even key-frame spacing, and an abrupt change from 2 to 20 frames costs more than
    the dense side gains (BENCHMARKS.md). One sweep per pass, so density spreads by one interval per pass,
    not over the whole clip. Intervals without 2D on both sides are left alone."""
    spacing = gaps / (add + 1)
    out = add.copy()
    for i in np.flatnonzero(measured):
        for j in (i - 1, i + 1):
            if 0 <= j < len(add) and measured[j] and spacing[i] > grade * spacing[j]:
                out[i] = max(out[i], min(room[i], math.ceil(gaps[i] / (grade * spacing[j])) - 1))
    return out


def refine_loop(
    observe: Observe, keys: np.ndarray, points: np.ndarray, n_frames: int, cfg: AutoStride
) -> tuple[np.ndarray, np.ndarray, int]:
    """Passes 2.. of auto: `observe(new_frames)` fetches 2D for those frames and returns all key-frames so
    far with their 2D (sorted). Returns the final (keys, points, passes run, the first included)."""
    passes = 1
    while passes < cfg.passes:
        new = refine(keys, points, n_frames, cfg)
        if not new:
            break
        keys, points = observe(new)
        passes += 1
    return keys, points, passes


def first_pass(n_frames: int, cfg: AutoStride) -> np.ndarray:
    """The rows pass 1 samples (what a KeyFrameReader with stride cfg.base gives)."""
    return np.arange(0, n_frames, cfg.base, dtype=np.int64)


def effective_stride(n_frames: int, n_keys: int) -> float:
    """Frames per MediaPipe call: what a fixed stride with the same cost would be."""
    return float(n_frames) / n_keys if n_keys else float("inf")


def even_keys(n_frames: int, n_keys: int) -> np.ndarray:
    """n_keys key-frames spread evenly over the clip, first and last frame included (the fixed-stride
    baseline at a given number of MediaPipe calls)."""
    n_keys = max(1, min(int(n_keys), n_frames))
    return np.unique(np.round(np.linspace(0, n_frames - 1, n_keys)).astype(np.int64))
