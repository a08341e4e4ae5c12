"""Video -> MediaPipe 2D on key-frames -> dense 3D joints -> the quality report.

A fixed stride is one streaming pass; `stride="auto"` is a sparse pass plus refining passes that decode
only the frames they need (inference/passes.py, inference/keyframes.py). Frames are never accumulated:
each key-frame is decoded, run through MediaPipe and dropped; only landmarks are kept. Everything a capture
owns (reader, landmarker) is created and closed inside `capture`, so the Blender add-on can run it in a
worker thread and poll `progress` / `should_cancel`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import CaptureCancelled, NoPersonError, PartialCaptureError, UpliftError, VideoError
from .keyframes import AutoStride, refine_loop
from .keyframes.passes import KeyframePass, PassSpec, run_pass
from .pose2d import (
    NUM_LANDMARKS,
    HandDetector,
    PoseDetector,
    Track,
    WithHands,
    choose_track,
    mediapipe33_to_h36m17,
    resolve_hand_model,
    resolve_pose_model,
)
from .pose2d.glitches import glitches
from .pose2d.hands import hands_on_grid
from .quality import Evidence, assess
from .result import CaptureResult, CaptureStats, Selection, Timings
from .skeleton import NUM_JOINTS
from .video import VideoInfo, probe

Progress = Callable[[str, int, int], None]
Lifter = Callable[..., np.ndarray]
AUTO_SHARE = 0.6  # share of the 2D progress bar the first pass of `stride="auto"` fills
HANDS = ("off", "wrists", "fingers")  # what capture(hands=) accepts; only "fingers" runs HandLandmarker


def _hands(hands: str) -> str:
    mode = str(hands).strip().lower()
    if mode not in HANDS:
        raise UpliftError(f"hands must be one of {', '.join(HANDS)}, not {hands!r}")
    return mode


def _stride(stride: int | str) -> int | str:
    if isinstance(stride, str) and stride.strip().lower() == "auto":
        return "auto"
    try:
        value = int(stride)
    except (TypeError, ValueError):
        raise UpliftError(f"stride must be a number of frames (1 or more) or 'auto', not {stride!r}") from None
    if value < 1 or isinstance(stride, bool):
        raise UpliftError(f"stride must be 1 or more, not {stride}")
    return value


def capture(
    video_path: str | os.PathLike,
    stride: int | str = 10,
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
    auto: AutoStride | None = None,
    backend: str = "auto",
    hands: str = "wrists",
    hand_model: str | os.PathLike | None = None,
) -> CaptureResult:
    """Capture the 3D motion of one person in a clip; `result.report` says how far to trust it.

    stride: run MediaPipe on every stride-th frame (frame t is a key-frame iff (t - start) % stride == 0),
        or "auto": a sparse first pass, then refining passes that add key-frames where the person moved
        (inference/keyframes.py; `auto` holds its settings).
    pose_model: "lite" | "full" | "heavy" | path of a .task bundle (see pose2d.bundle.resolve_pose_model);
        pose_cache_dir: where downloaded bundles are kept (Blender passes its extension user folder).
    person: whom to capture when several people are visible - "largest", "central" or a rank by size.
    max_people: people MediaPipe looks for per key-frame; 1 is fastest (MediaPipe follows one person itself,
        `person` is then moot). frame_range: (start, stop) frames, stop exclusive or None for the end.
    weights / device / backend: passed to the lifting model (backend: 'auto' | 'onnx' | 'torch'; 'auto' runs
        ONNX Runtime without importing torch when the shipped export matches the weights).
        lifter: replaces `inference.uplift` (tests, experiments); called with its keyword arguments, world too.
    hands: "off" | "wrists" | "fingers". Only "fingers" runs MediaPipe HandLandmarker (on key-frames, in
        crops around the pose's hands) and fills `hands2d` / `hands3d`; "off" / "wrists" only tell the
        retarget whether to drive the wrists. hand_model: the hand bundle (pose2d.hand_bundle resolves it).
    Raises VideoError, PoseModelError, NoPersonError, WeightsError, CaptureCancelled, PartialCaptureError.
    """
    t_start = time.perf_counter()
    stride = _stride(stride)
    hands = _hands(hands)
    if not (
        person in ("largest", "central")
        or (isinstance(person, (int, np.integer)) and not isinstance(person, bool) and person >= 0)
    ):
        raise UpliftError(f"person must be 'largest', 'central' or a rank (0 = largest), not {person!r}")
    path = Path(video_path)
    info = probe(path)
    cfg = (auto or AutoStride()).at_fps(info.fps) if stride == "auto" else None
    start, stop = (0, None) if frame_range is None else (int(frame_range[0]), frame_range[1])
    if start < 0 or (stop is not None and int(stop) <= start):
        raise UpliftError(f"invalid frame range {frame_range}: need 0 <= start < stop")
    if info.frame_count and start >= info.frame_count:
        raise UpliftError(f"frame range starts at {start} but {path} has only {info.frame_count} frames")
    stop = None if stop is None else int(stop)
    total = (min(stop, info.frame_count) if stop is not None else info.frame_count) - start
    model_path = resolve_pose_model(
        pose_model, allow_download=allow_download, cache_dir=None if pose_cache_dir is None else Path(pose_cache_dir)
    )

    hand_path = None
    if hands == "fingers":
        hand_path = resolve_hand_model(
            hand_model,
            allow_download=allow_download,
            cache_dir=None if pose_cache_dir is None else Path(pose_cache_dir),
        )

    def detector() -> PoseDetector | WithHands:  # one per pass: MediaPipe's VIDEO mode needs increasing times
        pose = PoseDetector(model_path, num_poses=max(1, int(max_people)))
        return pose if hand_path is None else WithHands(pose, HandDetector(hand_path))

    def first_progress(row: int) -> None:
        if progress is not None:
            share = 1.0 if cfg is None else AUTO_SHARE
            progress("pose2d", int(share * (row + 1)), max(total, row + 1))

    run = KeyframePass()
    with detector() as det:
        run_pass(
            path, PassSpec(start, stop, stride if cfg is None else cfg.base), det, run, first_progress, should_cancel
        )
    if cfg is not None and len(run.timestamps) >= 2:
        _refine(path, run, info, person, cfg, start, detector, progress, should_cancel)
    if progress is not None and run.error is None:
        progress("pose2d", len(run.timestamps), len(run.timestamps))
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
        lifter(
            sel.points2d,
            image_size=sel.image_size,
            fps=sel.fps,
            weights=weights,
            device=device,
            backend=backend,
            world=sel.world3d,  # read only by weights trained to see MediaPipe's world landmarks
        ),
        dtype=np.float32,
    )
    uplift_s = time.perf_counter() - t0
    if progress is not None:
        progress("uplift", 1, 1)
    T = len(sel.timestamps)
    if joints3d.shape != (T, NUM_JOINTS, 3):
        raise UpliftError(f"the lifting model returned shape {joints3d.shape}, expected {(T, NUM_JOINTS, 3)}")
    t0 = time.perf_counter()
    report = assess(evidence(sel), joints3d, stride=stride, frame_start=start, passes=run.passes)
    quality_s = time.perf_counter() - t0
    timings = Timings(
        decode=run.decode_s,
        pose2d=run.pose_s - run.hands_s,
        hands=run.hands_s,
        select=select_s,
        uplift=uplift_s,
        quality=quality_s,
        total=time.perf_counter() - t_start,
    )
    result = CaptureResult.from_selection(
        sel,
        joints3d,
        timings,
        source=str(path),
        stride=stride if cfg is None else cfg.base,
        frame_start=start,
        stride_mode="fixed" if cfg is None else "auto",
        report=report,
        hands=hands,
    )
    if run.error is not None:
        result.warnings.append(str(run.error))
        raise PartialCaptureError(str(run.error), result, path=path, frames_read=run.error.frames_read)
    return result


def _refine(
    path: Path,
    run: KeyframePass,
    info: VideoInfo,
    person: str | int,
    cfg: AutoStride,
    start: int,
    detector: Callable[[], PoseDetector | WithHands],
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
) -> None:
    """Passes 2.. of stride "auto": fetch the frames `keyframes.refine` asks for, re-choosing the person
    (and so the 2D the next decision reads) after every pass."""
    T = len(run.timestamps)

    def observe(new: list[int]) -> tuple[np.ndarray, np.ndarray]:
        lo = AUTO_SHARE + (1 - AUTO_SHARE) * (run.passes - 1) / max(cfg.passes - 1, 1)
        hi = AUTO_SHARE + (1 - AUTO_SHARE) * run.passes / max(cfg.passes - 1, 1)
        todo = {r: n for n, r in enumerate(new)}

        def step(row: int) -> None:
            if progress is not None:
                frac = (todo.get(row, 0) + 1) / len(new)
                progress("pose2d", min(T - 1, int(T * (lo + (hi - lo) * frac))), T)

        with detector() as det:
            run_pass(
                path, PassSpec(start, start + T, frames=tuple(start + r for r in new)), det, run, step, should_cancel
            )
        sel = select_person(run, info, person)
        return sel.keyframes, sel.points2d[sel.keyframes]

    sel = select_person(run, info, person)
    refine_loop(observe, sel.keyframes, sel.points2d[sel.keyframes], T, cfg)


def evidence(sel: Selection) -> Evidence:
    """What the quality report reads, from the chosen person's key-frames."""
    kf = sel.keyframes
    return Evidence(
        keys=kf,
        n_frames=len(sel.timestamps),
        fps=sel.fps,
        image_size=sel.image_size,
        detected=sel.detected,
        landmarks33=sel.landmarks33,
        world33=sel.world33,
        points2d=sel.points2d[kf],
        crowding=sel.crowding,
        others=sel.others,
    )


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
    kf = np.asarray([k for k in run.keyframes if k < T], dtype=np.int64)
    K = len(kf)
    w, h = int(info.width), int(info.height)
    tracker = run.track()
    track = choose_track(tracker.tracks, person, (w, h), weights=_slot_weights(np.asarray(run.keyframes), T))
    warnings: list[str] = []
    lm33 = np.full((K, NUM_LANDMARKS, 5), np.nan, np.float32)
    w33 = np.full((K, NUM_LANDMARKS, 3), np.nan, np.float32)
    if track is not None:
        for slot, det in track.items.items():
            if slot < K:
                lm33[slot], w33[slot] = det.image, det.world
    elif tracker.tracks:
        warnings.append(f"person rank {person} requested but only {len(tracker.tracks)} people were seen")
    crowding, others = _neighbours(tracker.tracks, track, K)
    detected = np.isfinite(lm33[:, :, :2]).all(axis=(1, 2))
    bad = glitches(np.asarray(run.timestamps)[kf], lm33, detected)
    if bad.any():  # filled from the neighbours like a miss, and the report flags them as lost
        lm33[bad], w33[bad], detected[bad] = np.nan, np.nan, False
        warnings.append(
            f"dropped a one-frame detector glitch at frame{'s' if bad.sum() > 1 else ''} {', '.join(map(str, kf[bad]))}"
        )
    points2d = np.full((T, NUM_JOINTS, 2), np.nan, np.float32)
    world3d = np.full((T, NUM_JOINTS, 3), np.nan, np.float32)
    hands2d, hands3d = hands_on_grid(track.items if track is not None else {}, kf, T)
    hands2d[kf[bad]], hands3d[kf[bad]] = np.nan, np.nan
    points2d[kf] = mediapipe33_to_h36m17(lm33[:, :, :2])
    world3d[kf] = mediapipe33_to_h36m17(w33)
    rest = [tr for tr in tracker.tracks if tr is not track and len(tr.items) >= 2]
    if rest:
        warnings.append(
            f"{len(rest) + 1} people seen; captured the {person} one "
            f"(on {len(track.items) if track else 0} of {K} key-frames)"
        )
    stats = CaptureStats(
        frames=T,
        keyframes=K,
        detected=int(detected.sum()),
        people_max=run.people_max,
        people_tracks=len(tracker.tracks),
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
        crowding=crowding,
        others=others,
        hands2d=hands2d,
        hands3d=hands3d,
    )


def _slot_weights(keys: np.ndarray, T: int) -> dict[int, float] | None:
    """Frames each key-frame stands for (half the gap to each neighbour), None when evenly spaced."""
    gaps = np.diff(keys)
    if len(keys) < 3 or (gaps == gaps[0]).all():
        return None
    edges = np.concatenate([[keys[0]], (keys[:-1] + keys[1:]) / 2, [max(keys[-1], T - 1)]])
    return {slot: float(max(edges[slot + 1] - edges[slot], 0.5)) for slot in range(len(keys))}


def _neighbours(tracks: list[Track], chosen: Track | None, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Per key-frame: the distance from the chosen person to the nearest other one (torso centres, in the
    chosen person's body heights; inf when alone or not found) and how many others were seen. A track seen
    on one key-frame only does not count as crowding (MediaPipe's occasional ghost of the same body)."""
    crowd = np.full(K, np.inf)
    others = np.zeros(K, np.int64)
    for tr in tracks:
        if tr is chosen:
            continue
        for slot, det in tr.items.items():
            if slot >= K:
                continue
            others[slot] += 1
            if chosen is not None and slot in chosen.items and len(tr.items) >= 2:
                me = chosen.items[slot]
                crowd[slot] = min(crowd[slot], float(np.linalg.norm(det.center - me.center)) / me.scale)
    return crowd, others


def _fps(header_fps: float, timestamps: np.ndarray) -> float:
    """The container's average rate, or (when a file does not declare one) the rate of its timestamps."""
    if header_fps and np.isfinite(header_fps) and header_fps > 0:
        return float(header_fps)
    span = float(timestamps[-1] - timestamps[0]) if len(timestamps) > 1 else 0.0
    return (len(timestamps) - 1) / span if span > 0 else 30.0
