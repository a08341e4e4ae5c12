"""Video -> key-frame 2D poses (MediaPipe) -> dense 3D joints (Uplift and Upsample). Never imports bpy.

Public API:
    uplift(points_2d, image_size=(w, h), fps=fps) -> np.ndarray [T, 17, 3]
    capture(video_path, stride=10 | "auto", ...) -> CaptureResult (result.report: QualityReport)
    probe(video_path) -> VideoInfo;  resolve_pose_model(...) / fetch_pose_model(...) -> Path (POSE_MODEL_VARIANTS)
    resolve_hand_model(...) -> Path: the HandLandmarker bundle for capture(hands="fingers")
The stages, one subpackage each: video/ (decode), pose2d/ (MediaPipe, tracking, landmarks, bundle),
lift/ (the model and its weights); pipeline.py runs them, result.py is what they hand on; training/ is
the training side (not shipped). Heavy imports (torch, mediapipe, cv2) happen on first use, so importing
this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    CaptureCancelled,
    NoPersonError,
    PartialCaptureError,
    PoseModelError,
    UpliftError,
    VideoError,
    WeightsError,
)
from .keyframes import AutoStride
from .quality import Flag, QualityReport
from .result import CaptureResult, CaptureStats, Timings
from .skeleton import JOINT_NAMES, NUM_JOINTS

if TYPE_CHECKING:  # pragma: no cover
    from .lift import uplift as uplift
    from .pipeline import capture as capture
    from .pose2d.bundle import VARIANTS as POSE_MODEL_VARIANTS
    from .pose2d.bundle import fetch_pose_model as fetch_pose_model
    from .pose2d.bundle import resolve_pose_model as resolve_pose_model
    from .pose2d.hand_bundle import resolve_hand_model as resolve_hand_model
    from .video import VideoInfo as VideoInfo
    from .video import probe as probe

# public name -> (module, attribute), imported on first use (the heavy libraries load only then)
_LAZY = {
    "uplift": (".lift", "uplift"),
    "capture": (".pipeline", "capture"),
    "probe": (".video", "probe"),
    "VideoInfo": (".video", "VideoInfo"),
    "resolve_pose_model": (".pose2d.bundle", "resolve_pose_model"),
    "fetch_pose_model": (".pose2d.bundle", "fetch_pose_model"),
    "POSE_MODEL_VARIANTS": (".pose2d.bundle", "VARIANTS"),
    "resolve_hand_model": (".pose2d.hand_bundle", "resolve_hand_model"),
}

__all__ = [
    "JOINT_NAMES",
    "NUM_JOINTS",
    "POSE_MODEL_VARIANTS",
    "AutoStride",
    "CaptureCancelled",
    "CaptureResult",
    "CaptureStats",
    "Flag",
    "NoPersonError",
    "PartialCaptureError",
    "PoseModelError",
    "QualityReport",
    "Timings",
    "UpliftError",
    "VideoError",
    "WeightsError",
    "POSE_MODEL_VARIANTS",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
