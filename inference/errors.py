"""Errors a user can act on. The CLI prints their message (no traceback) and exits non-zero."""
from __future__ import annotations


class UpliftError(Exception):
    """Base class: the message is shown to the user as-is, so it must say what went wrong and what to do."""


class VideoError(UpliftError):
    """The clip cannot be opened or decoded (names the file and, where known, the frame)."""


class PoseModelError(UpliftError):
    """The MediaPipe model bundle is missing, corrupt or cannot be downloaded."""


class NoPersonError(UpliftError):
    """No person was detected in any key-frame."""


class WeightsError(UpliftError):
    """The uplifting model's weights are missing or do not match the architecture."""


class CaptureCancelled(UpliftError):
    """The user cancelled a capture; nothing was produced."""
