"""Video -> MediaPipe 2D on every stride-th frame -> dense 3D joints, in one streaming pass.

Frames are never accumulated: each key-frame is decoded, run through MediaPipe and dropped; only landmarks
are kept. Everything a capture owns (reader, landmarker) is created and closed inside `capture`, so the
Blender add-on can run it in a worker thread and poll `progress` / `should_cancel`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CaptureCancelled, NoPersonError, PartialCaptureError, UpliftError, VideoError
from .pose2d import (
    NUM_LANDMARKS,
    PeopleTracker,
    PoseDetector,
    choose_track,
    dedupe,
    mediapipe33_to_h36m17,
    resolve_pose_model,
)
from .result import CaptureResult, CaptureStats, Selection, Timings
from .skeleton import NUM_JOINTS
from .video import KeyFrameReader, VideoInfo, probe

Progress = Callable[[str, int, int], None]
Lifter = Callable[..., np.ndarray]


@dataclass
class KeyframePass:
    """What the streaming pass collects: per key-frame people, tracks and clock (filled as it goes)."""

    keyframes: list[int] = field(default_factory=list)
    timestamps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tracker: PeopleTracker = field(default_factory=PeopleTracker)
    people_max: int = 0
    frames_with_people: int = 0
    decode_s: float = 0.0
    pose_s: float = 0.0
    error: VideoError | None = None


def run_pass(
    path: Path,
    stride: int,
    start: int,
    stop: int | None,
    detector: PoseDetector,
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
    total: int,
) -> KeyframePass:
    """Decode key-frames and run MediaPipe on each; a damaged clip ends the pass with `error` set."""
    out = KeyframePass()
    reader = KeyFrameReader(path, stride, start=start, stop=stop, prefetch=2)
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
                out.error = exc
                break
            finally:
                out.decode_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            people = dedupe(detector.detect(kf.image, kf.timestamp))
            out.pose_s += time.perf_counter() - t0
            slot = len(out.keyframes)
            out.keyframes.append(kf.index - start)
            out.tracker.update(slot, kf.index, people)
            out.people_max = max(out.people_max, len(people))
            out.frames_with_people += bool(people)
            if progress is not None:
                progress("pose2d", kf.index - start + 1, max(total, kf.index - start + 1))
        out.timestamps = np.asarray(reader.timestamps, dtype=np.float64)
        if progress is not None and out.error is None:
            progress("pose2d", len(out.timestamps), len(out.timestamps))
    finally:
        reader.close()
    return out


def capture(
    video_path: str | os.PathLike,
    stride: int = 10,
    *,
    pose_model: str | os.PathLike = "full",
    person: str | int = "largest",
    frame_range: tuple[int, int | None] | None = None,
    device: str = "auto",
    weights: str | os.PathLike | None = None,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    max_people: int = 3,
    allow_download: bool = False,
    pose_cache_dir: str | os.PathLike | None = None,
    lifter: Lifter | None = None,
    backend: str = "auto",
) -> CaptureResult:
    """Capture the 3D motion of one person in a clip.

    stride: run MediaPipe on every stride-th frame (frame t is a key-frame iff (t - start) % stride == 0).
    pose_model: "lite" | "full" | "heavy" | path of a .task bundle (see pose2d.bundle.resolve_pose_model);
        pose_cache_dir: where downloaded bundles are kept (Blender passes its extension user folder).
    person: whom to capture when several people are visible - "largest", "central" or a rank by size.
    max_people: people MediaPipe looks for per key-frame; 1 is fastest (MediaPipe follows one person itself,
        `person` is then moot). frame_range: (start, stop) frames, stop exclusive or None for the end.
    weights / device / backend: passed to the lifting model (backend: 'auto' | 'onnx' | 'torch'; 'auto' runs
        ONNX Runtime without importing torch when the shipped export matches the weights).
        lifter: replaces `inference.uplift` (tests, experiments).
    Raises VideoError, PoseModelError, NoPersonError, WeightsError, CaptureCancelled, PartialCaptureError.
    """
    t_start = time.perf_counter()
    stride = int(stride)
    if stride < 1:
        raise UpliftError(f"stride must be 1 or more, not {stride}")
    if not (
        person in ("largest", "central")
        or (isinstance(person, (int, np.integer)) and not isinstance(person, bool) and person >= 0)
    ):
        raise UpliftError(f"person must be 'largest', 'central' or a rank (0 = largest), not {person!r}")
    path = Path(video_path)
    info = probe(path)
    start, stop = (0, None) if frame_range is None else (int(frame_range[0]), frame_range[1])
    if start < 0 or (stop is not None and int(stop) <= start):
        raise UpliftError(f"invalid frame range {frame_range}: need 0 <= start < stop")
    if info.frame_count and start >= info.frame_count:
        raise UpliftError(f"frame range starts at {start} but {path} has only {info.frame_count} frames")
    total = (min(int(stop), info.frame_count) if stop is not None else info.frame_count) - start
    model_path = resolve_pose_model(
        pose_model, allow_download=allow_download, cache_dir=None if pose_cache_dir is None else Path(pose_cache_dir)
    )

    with PoseDetector(model_path, num_poses=max(1, int(max_people))) as detector:
        run = run_pass(
            path, stride, start, None if stop is None else int(stop), detector, progress, should_cancel, total
        )
    if should_cancel is not None and should_cancel():
        raise CaptureCancelled("capture cancelled; nothing was produced")

    t0 = time.perf_counter()
    sel = select_person(run, info, person)
    select_s = time.perf_counter() - t0
    _check_selection(sel, run, path, person)

    if progress is not None:
        progress("uplift", 0, 1)
    t0 = time.perf_counter()
    if lifter is None:
        from .lift import uplift as lifter
    joints3d = np.asarray(
        lifter(sel.points2d, image_size=sel.image_size, fps=sel.fps, weights=weights, device=device, backend=backend),
        dtype=np.float32,
    )
    uplift_s = time.perf_counter() - t0
    if progress is not None:
        progress("uplift", 1, 1)
    T = len(sel.timestamps)
    if joints3d.shape != (T, NUM_JOINTS, 3):
        raise UpliftError(f"the lifting model returned shape {joints3d.shape}, expected {(T, NUM_JOINTS, 3)}")
    timings = Timings(
        decode=run.decode_s, pose2d=run.pose_s, select=select_s, uplift=uplift_s, total=time.perf_counter() - t_start
    )
    result = CaptureResult.from_selection(sel, joints3d, timings, source=str(path), stride=stride, frame_start=start)
    if run.error is not None:
        result.warnings.append(str(run.error))
        raise PartialCaptureError(str(run.error), result, path=path, frames_read=run.error.frames_read)
    return result


def _check_selection(sel: Selection, run: KeyframePass, path: Path, person: str | int) -> None:
    """Refuse a capture that has nothing to lift, with the reason a user can act on."""
    T, st = len(sel.timestamps), sel.stats
    damaged = run.error
    if damaged is None and T < 2:
        raise VideoError(
            f"{path} has only {T} frame{'' if T == 1 else 's'}: a capture needs a clip of 2 frames or more",
            path=path,
            frames_read=T,
        )
    if st.track_id is None and st.people_tracks:
        n = st.people_tracks
        raise NoPersonError(
            f"person {person} was requested but only {n} {'person was' if n == 1 else 'people were'}"
            f" seen in {path} (0 is the largest)"
        )
    if st.detected == 0:
        if damaged is not None:
            raise PartialCaptureError(str(damaged), None, path=path, frames_read=damaged.frames_read)
        raise NoPersonError(
            f"no person found in {path} (looked at {st.keyframes} key-frames). The whole "
            f"body should be visible and not too small; a smaller stride may help."
        )
    if st.detected < 2:
        msg = (
            f"a person was found on only 1 of {st.keyframes} key-frames of {path}: not enough to "
            f"capture motion; use a smaller stride"
        )
        if damaged is not None:
            raise PartialCaptureError(f"{damaged} ({msg})", None, path=path, frames_read=damaged.frames_read)
        raise NoPersonError(msg)


def select_person(run: KeyframePass, info: VideoInfo, person: str | int) -> Selection:
    """Choose the performer and lay the key-frame landmarks out on the full frame grid."""
    T = len(run.timestamps)
    K = len(run.keyframes)
    w, h = int(info.width), int(info.height)
    track = choose_track(run.tracker.tracks, person, (w, h))
    warnings: list[str] = []
    lm33 = np.full((K, NUM_LANDMARKS, 5), np.nan, np.float32)
    w33 = np.full((K, NUM_LANDMARKS, 3), np.nan, np.float32)
    if track is not None:
        for slot, det in track.items.items():
            lm33[slot], w33[slot] = det.image, det.world
    elif run.tracker.tracks:
        warnings.append(f"person rank {person} requested but only {len(run.tracker.tracks)} people were seen")
    detected = np.isfinite(lm33[:, :, :2]).all(axis=(1, 2))
    kf = np.asarray(run.keyframes, dtype=np.int64)
    points2d = np.full((T, NUM_JOINTS, 2), np.nan, np.float32)
    world3d = np.full((T, NUM_JOINTS, 3), np.nan, np.float32)
    inside = kf < T
    points2d[kf[inside]] = mediapipe33_to_h36m17(lm33[inside, :, :2])
    world3d[kf[inside]] = mediapipe33_to_h36m17(w33[inside])
    others = [tr for tr in run.tracker.tracks if tr is not track and len(tr.items) >= 2]
    if others:
        warnings.append(
            f"{len(others) + 1} people seen; captured the {person} one "
            f"(on {len(track.items) if track else 0} of {K} key-frames)"
        )
    stats = CaptureStats(
        frames=T,
        keyframes=K,
        detected=int(detected.sum()),
        people_max=run.people_max,
        people_tracks=len(run.tracker.tracks),
        keyframes_with_people=run.frames_with_people,
        person=person if isinstance(person, str) else int(person),
        track_id=None if track is None else track.ident,
    )
    return Selection(
        points2d=points2d,
        world3d=world3d,
        landmarks33=lm33,
        world33=w33,
        detected=detected,
        keyframes=kf,
        timestamps=run.timestamps,
        fps=_fps(info.fps, run.timestamps),
        image_size=(w, h),
        stats=stats,
        warnings=tuple(warnings),
    )


def _fps(header_fps: float, timestamps: np.ndarray) -> float:
    """The container's average rate, or (when a file does not declare one) the rate of its timestamps."""
    if header_fps and np.isfinite(header_fps) and header_fps > 0:
        return float(header_fps)
    span = float(timestamps[-1] - timestamps[0]) if len(timestamps) > 1 else 0.0
    return (len(timestamps) - 1) / span if span > 0 else 30.0
