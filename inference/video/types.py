"""What the reader and its decoder backends say to each other: clip facts, the plan, and decode events.

Why events: a backend only reports what it saw (a frame exists at a time, a frame is damaged, a key-frame
image, or where the stream broke); the reader alone keeps the books (timestamps, frames read, damaged
frames). So backends never touch the reader, and nothing here imports a backend.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol, Union

import numpy as np

from ..errors import VideoError


@dataclass(frozen=True)
class VideoInfo:
    """What a user's clip is, as it will be delivered (display size, i.e. after rotation)."""

    path: Path
    width: int
    height: int
    fps: float  # average frame rate
    frame_count: int  # container estimate; the exact count is known after a full pass
    rotation: int  # clockwise degrees applied to reach display orientation (0/90/180/270)
    duration: float  # seconds
    codec: str


@dataclass(frozen=True)
class Plan:
    """Which frames the caller wants: t with start <= t < stop and (t - start) % stride == 0, or, when
    `frames` is given, exactly those frames of the range (a later pass that fetches only the frames an
    earlier pass asked for; backends need not know which kind of plan they follow)."""

    start: int = 0
    stop: int | None = None
    stride: int = 1
    frames: frozenset[int] | None = None

    def wants(self, t: int) -> bool:
        if not self.in_range(t):
            return False
        return t in self.frames if self.frames is not None else (t - self.start) % self.stride == 0

    def in_range(self, t: int) -> bool:
        return t >= self.start and (self.stop is None or t < self.stop)

    @property
    def last_key(self) -> int | None:
        """The last wanted frame when the range is bounded (a backend may stop once it is out)."""
        if self.stop is None:
            return None
        if self.frames is not None:
            inside = [t for t in self.frames if self.in_range(t)]
            return max(inside) if inside else None
        return self.start + (self.stop - 1 - self.start) // self.stride * self.stride


class KeyFrame(NamedTuple):
    index: int  # frame index in the whole clip (0 = first frame)
    timestamp: float  # seconds from the first frame
    image: np.ndarray  # RGB uint8 HxWx3, rotation applied, C-contiguous


class Seen(NamedTuple):
    """Frame `index` of the clip exists and is shown at `seconds` (reported in display order)."""

    index: int
    seconds: float


class Corrupt(NamedTuple):
    """FFmpeg decoded frame `index` but flagged it as damaged (concealed errors)."""

    index: int


Event = Union[Seen, Corrupt, KeyFrame]


class StreamDamaged(Exception):
    """Raised by a backend where decoding cannot go on; frames from `first_lost` on are lost."""

    def __init__(self, first_lost: int, cause: BaseException | str) -> None:
        super().__init__(str(cause))
        self.first_lost = int(first_lost)
        self.cause = cause


class Source(Protocol):
    """An opened clip in one backend (PyAV or OpenCV)."""

    name: str
    info: VideoInfo

    def events(self, plan: Plan, stop: threading.Event) -> Iterator[Event]:
        """Decode once from the first frame; yield Seen for every frame, KeyFrame for wanted ones."""
        ...

    def close(self) -> None: ...


def rotate(image: np.ndarray, clockwise: int) -> np.ndarray:
    """Rotate clockwise by a multiple of 90 degrees and return a C-contiguous array."""
    if clockwise:
        image = np.rot90(image, k=-(clockwise // 90))
    return np.ascontiguousarray(image)


def check_file(path: Path) -> None:
    """Clear errors for the common non-video cases, before any decoder sees the file."""
    if not path.exists():
        raise VideoError(f"Video file not found: {path}", path=path)
    if path.is_dir():
        raise VideoError(f"{path} is a folder, not a video file", path=path)
    if path.stat().st_size == 0:
        raise VideoError(f"{path} is empty (0 bytes): re-export or re-copy the clip", path=path)
