"""Video -> key-frame 2D poses (MediaPipe) -> dense 3D joints (Uplift and Upsample). Never imports bpy.

Public API:
    uplift(points_2d, image_size=(w, h), fps=fps) -> np.ndarray [T, 17, 3]
    capture(video_path, stride=10, ...) -> CaptureResult
Heavy imports (torch, mediapipe, cv2) happen on first use, so importing this package is cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (  # noqa: F401
    CaptureCancelled, NoPersonError, PoseModelError, UpliftError, VideoError, WeightsError,
)
from .skeleton import JOINT_NAMES, NUM_JOINTS  # noqa: F401

if TYPE_CHECKING:  # pragma: no cover
    from .lift import uplift  # noqa: F401
    from .pipeline import CaptureResult, capture  # noqa: F401

_LAZY = {"uplift": ".lift", "capture": ".pipeline", "CaptureResult": ".pipeline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
