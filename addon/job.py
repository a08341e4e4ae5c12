"""A capture as a job: `inference.capture` in a worker thread with progress and cancel. No bpy here.

Why a thread and not a subprocess: the result is a few numpy arrays that the main thread needs next, and
MediaPipe/torch release the GIL while they compute, so Blender's UI stays responsive. The scene is only
touched afterwards, on the main thread (apply.py), so a cancelled or failed capture changes nothing.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._pkgs import inference

# Stages in the order capture reports them (decoding is interleaved with the 2D pose, one key-frame at a
# time, so it has no stage of its own), with their share of the bar (the rest is retarget + keys).
STAGE_LABELS = {"pose2d": "2D pose", "uplift": "3D uplift"}
STAGE_SPANS = {"pose2d": (0.0, 0.85), "uplift": (0.85, 0.97)}

# Default per-stage costs on a 2-core laptop-class CPU (seconds), refined by each finished capture
# (see `learn`). decode: per video frame per megapixel; pose2d: per key-frame; uplift + retarget: per frame.
DEFAULT_COSTS: dict[str, float] = {
    "decode_per_mpix_frame": 0.004,
    "pose2d_full": 0.022,
    "pose2d_lite": 0.015,
    "hands_per_keyframe": 0.03,  # HandLandmarker on both hands (Hands: Fingers); BENCHMARKS.md "Hands"
    "uplift_per_frame": 0.002,
    "retarget_per_frame": 0.002,
}
_costs: dict[str, float] = dict(DEFAULT_COSTS)


def auto_strides(fps: float) -> tuple[int, int]:
    """Effective strides of `stride="auto"` on a still and on a busy clip of this rate: the range of its
    estimate, since its key-frame count depends on the motion. Still: the first pass alone; busy: about a
    sixth of that (BENCHMARKS.md: 23 and 5 at 30 fps on the synthetic clips, 2 on the 5 fps squats)."""
    cfg = inference.AutoStride().at_fps(fps)
    return cfg.base, max(cfg.min_gap, round(cfg.base / 6))


@dataclass
class CaptureOptions:
    """Everything the capture and the retarget need; the operator's properties map onto this."""

    video: str
    stride: int | str = 10  # frames between key-frames, or "auto": chosen by motion (inference.keyframes)
    pose_model: str = "full"  # "lite" | "full"
    person: str = "largest"
    frame_range: tuple[int, int] | None = None  # video frames, end exclusive
    device: str = "auto"
    target: str = ""  # name of an armature object; "" = build a new armature
    smoothing: float = 0.5  # 0 = raw, 1 = strongest
    root_motion: bool = True
    foot_locking: bool = True
    check_2d: bool = False  # add a camera with the clip as background and the 2D key-points as empties
    assume_level: bool = False  # trust a level camera instead of measuring its tilt
    camera_pitch: float | None = None  # degrees (+ = looking up); None = estimate it
    camera_roll: float | None = None  # degrees (+ = turned counter-clockwise seen from behind); None = estimate
    hands: str = "WRISTS"  # "OFF" | "WRISTS" | "FINGERS" (only FINGERS runs HandLandmarker)
    extra: dict[str, Any] = field(default_factory=dict)  # passed through to inference.capture


def _model_key(pose_model: str) -> str:
    """Cost-table key for a variant name or a bundle path (pose_landmarker_lite.task -> lite)."""
    return "pose2d_lite" if "lite" in Path(str(pose_model)).name else "pose2d_full"


def estimate_seconds(
    frame_count: int,
    stride: int,
    pose_model: str = "full",
    width: int = 1280,
    height: int = 720,
    hands: str = "WRISTS",
) -> float:
    """Expected run time of a capture: decoding every frame, 2D pose on every stride-th, uplift + keys per frame.

    A linear model (cost per frame per stage) is enough because every stage is linear in its count;
    the constants start from measurements on a 2-core CPU and follow this machine after one capture.
    """
    stride = max(1, int(stride))
    keyframes = math.ceil(frame_count / stride)
    mpix = width * height / 1e6
    return (
        frame_count * mpix * _costs["decode_per_mpix_frame"]
        + keyframes * _costs[_model_key(pose_model)]
        + (keyframes * _costs["hands_per_keyframe"] if str(hands).upper() == "FINGERS" else 0.0)
        + frame_count * (_costs["uplift_per_frame"] + _costs["retarget_per_frame"])
    )


def learn(
    timings: dict[str, float],
    frame_count: int,
    keyframes: int,
    pose_model: str,
    width: int,
    height: int,
    retarget_seconds: float | None = None,
) -> None:
    """Update the cost model from a finished capture's measured stage times (moving average)."""

    def blend(key: str, value: float) -> None:
        if value > 0 and math.isfinite(value):
            _costs[key] = 0.5 * _costs[key] + 0.5 * value

    mpix = max(width * height / 1e6, 1e-6)
    if frame_count > 0 and "decode" in timings:
        blend("decode_per_mpix_frame", timings["decode"] / frame_count / mpix)
    if keyframes > 0 and "pose2d" in timings:
        blend(_model_key(pose_model), timings["pose2d"] / keyframes)
    if keyframes > 0 and timings.get("hands", 0.0) > 0:
        blend("hands_per_keyframe", timings["hands"] / keyframes)
    if frame_count > 0 and "uplift" in timings:
        blend("uplift_per_frame", timings["uplift"] / frame_count)
    if frame_count > 0 and retarget_seconds is not None:
        blend("retarget_per_frame", retarget_seconds / frame_count)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"~{max(1, round(seconds))} s"
    return f"~{int(seconds // 60)} min {int(round(seconds % 60)):02d} s"


class CaptureJob:
    """Runs one capture. `start()` uses a worker thread (UI), `run()` blocks (scripts, batch, tests)."""

    def __init__(
        self,
        options: CaptureOptions,
        capture_fn: Callable[..., Any] | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.options = options
        self._on_progress = on_progress  # called from the worker thread (batch prints it)
        self._capture = capture_fn or inference.capture
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.stage, self.done_count, self.total = "starting", 0, 0
        self.result: Any = None
        self.error: BaseException | None = None
        self.warnings: list[str] = []
        self.error_detail = ""  # traceback for unexpected errors (console), message goes to the user
        self.started = self.finished = 0.0

    # --- called from the worker -----------------------------------------------------------------------
    def _progress(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self.stage, self.done_count, self.total = stage, int(done), int(total)
        if self._on_progress is not None:
            self._on_progress(stage, done, total)

    def run(self) -> Any:
        """Blocking capture; returns the CaptureResult or raises (CaptureCancelled on cancel)."""
        o = self.options
        self.started = time.perf_counter()
        try:
            if not Path(o.video).is_file():
                raise inference.VideoError(f"Video file not found: {o.video}")
            self.result = self._capture(
                o.video,
                stride=o.stride,
                pose_model=o.pose_model,
                person=o.person,
                frame_range=o.frame_range,
                device=o.device,
                hands=o.hands.lower(),
                progress=self._progress,
                should_cancel=self._cancel.is_set,
                **o.extra,
            )
        except inference.PartialCaptureError as exc:  # damaged clip: the frames before the damage are kept
            if exc.result is None or self._cancel.is_set():
                self._store_error(exc)
                raise
            self.result = exc.result
            self.warnings.append(str(exc))
        except Exception as exc:
            self._store_error(exc)
            raise
        finally:
            self.finished = time.perf_counter()
        if self._cancel.is_set():  # cancelled after the last check inside capture
            exc = inference.CaptureCancelled("Capture cancelled; nothing was changed.")
            self._store_error(exc)
            raise exc
        return self.result

    def _store_error(self, exc: BaseException) -> None:
        self.error = exc
        if not isinstance(exc, inference.UpliftError):
            self.error_detail = traceback.format_exc()

    def start(self) -> None:
        def work() -> None:
            try:
                self.run()
            except BaseException:  # noqa: BLE001 - kept in self.error for the main thread
                pass

        self._thread = threading.Thread(target=work, name="uplift-capture", daemon=True)
        self._thread.start()

    # --- called from the main thread ------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def fraction(self) -> float:
        """0..1 over the capture stages, for the progress bar (stages weighted by typical cost)."""
        with self._lock:
            stage, done, total = self.stage, self.done_count, self.total
        lo, hi = STAGE_SPANS.get(stage, (0.0, 0.0))
        part = done / total if total > 0 else 0.0
        return lo + (hi - lo) * min(max(part, 0.0), 1.0)

    def status_text(self) -> str:
        with self._lock:
            stage, done, total = self.stage, self.done_count, self.total
        label = STAGE_LABELS.get(stage, stage.capitalize())
        count = f" {done}/{total}" if total else ""
        return f"Uplift capture: {label}{count}  ({int(100 * self.fraction())}%)  Esc to cancel"

    def error_message(self) -> str:
        """What the user is shown: our errors carry an actionable message; anything else is a bug report."""
        exc = self.error
        if exc is None:
            return ""
        if isinstance(exc, inference.UpliftError):
            return str(exc)
        return f"Capture failed with an unexpected error ({type(exc).__name__}: {exc}); see the system console."
