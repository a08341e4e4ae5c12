"""Errors a user can act on. The CLI prints their message (no traceback) and exits non-zero."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .result import CaptureResult


class UpliftError(Exception):
    """Base class: the message is shown to the user as-is, so it must say what went wrong and what to do."""


class VideoError(UpliftError):
    """The clip cannot be opened or decoded. `path` is the file; `frames_read` how many frames were decoded
    before the problem (None when it could not be opened at all)."""

    def __init__(self, message: str, *, path: Path | None = None, frames_read: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.frames_read = frames_read


class PartialCaptureError(VideoError):
    """The clip is damaged or truncated part-way: `result` holds the capture of the frames decoded before the
    damage (None if fewer than 2 key-frames with a person were found). Raised, not returned, so nobody uses a
    partial result by accident."""

    def __init__(
        self, message: str, result: CaptureResult | None, *, path: Path | None = None, frames_read: int | None = None
    ) -> None:
        super().__init__(message, path=path, frames_read=frames_read)
        self.result = result


class PoseModelError(UpliftError):
    """The MediaPipe model bundle is missing, corrupt or cannot be downloaded."""


class NoPersonError(UpliftError):
    """No person was detected in any key-frame."""


class WeightsError(UpliftError):
    """The uplifting model's weights are missing or do not match the architecture."""


class CaptureCancelled(UpliftError):
    """The user cancelled a capture; nothing was produced."""
