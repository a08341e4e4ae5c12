"""Passes over a clip: decode the wanted frames, run MediaPipe on each, keep only the landmarks.

A fixed stride is one pass. `--stride auto` adds refining passes that fetch only the frames the first
passes asked for (inference/keyframes.py); every pass merges into the same `KeyframePass`, and people are
linked into tracks afterwards over all key-frames in time order, so a refined frame counts like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CaptureCancelled, VideoError
from ..pose2d import Detection, PeopleTracker, PoseDetector, WithHands, dedupe
from ..video import KeyFrameReader

Progress = Callable[[str, int, int], None]


@dataclass
class KeyframePass:
    """What the passes collect: the people on each key-frame (by row), the clock and the costs."""

    people: dict[int, list[Detection]] = field(default_factory=dict)  # row -> people found there
    timestamps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    decode_s: float = 0.0
    pose_s: float = 0.0  # MediaPipe, hands included when the detector looks for them
    hands_s: float = 0.0  # of which HandLandmarker (pose2d.hands.WithHands)
    passes: int = 0
    error: VideoError | None = None

    @property
    def keyframes(self) -> list[int]:
        return sorted(self.people)

    @property
    def people_max(self) -> int:
        return max((len(p) for p in self.people.values()), default=0)

    @property
    def frames_with_people(self) -> int:
        return sum(bool(p) for p in self.people.values())

    def track(self) -> PeopleTracker:
        """Link people into tracks over all key-frames in time order (slot = index in `keyframes`)."""
        tracker = PeopleTracker()
        for slot, row in enumerate(self.keyframes):
            tracker.update(slot, row, self.people[row])
        return tracker


@dataclass(frozen=True)
class PassSpec:
    """One pass: every stride-th frame of [start, stop), or exactly `frames` (clip frame indices)."""

    start: int
    stop: int | None
    stride: int = 1
    frames: tuple[int, ...] | None = None


def run_pass(
    path: Path,
    spec: PassSpec,
    detector: PoseDetector | WithHands,
    out: KeyframePass,
    progress: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> KeyframePass:
    """Decode the pass's frames and run MediaPipe on each, merging into `out`. The first pass sets the
    clock; a damaged clip ends the pass with `out.error` set (the first damage found is kept).
    progress(row) is called after each key-frame."""
    first = out.passes == 0
    reader = KeyFrameReader(path, spec.stride, start=spec.start, stop=spec.stop, frames=spec.frames, prefetch=2)
    try:
        it = iter(reader)
        while True:
            if should_cancel is not None and should_cancel():
                raise CaptureCancelled("capture cancelled; nothing was produced")
            t0 = time.perf_counter()
            try:
                kf = next(it)
            except StopIteration:
                break
            except VideoError as exc:
                out.error = out.error or exc
                break
            finally:
                out.decode_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            people = dedupe(detector.detect(kf.image, kf.timestamp))
            out.pose_s += time.perf_counter() - t0
            out.people[kf.index - spec.start] = people
            if progress is not None:
                progress(kf.index - spec.start)
        if first:
            out.timestamps = np.asarray(reader.timestamps, dtype=np.float64)
    finally:
        reader.close()
        out.hands_s = out.hands_s + getattr(getattr(detector, "hands", None), "seconds", 0.0)
    out.passes += 1
    return out
