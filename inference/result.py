"""What a capture hands from stage to stage: the performer's key-frame landmarks on the frame grid
(`Selection`), then the whole result with its 3D joints (`CaptureResult`). Each is built once, complete."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import UpliftError

if TYPE_CHECKING:  # pragma: no cover
    from .quality import QualityReport


@dataclass(frozen=True)
class CaptureStats:
    """Counts of a capture: frames, key-frames, where the person was found, how many people were seen."""

    frames: int
    keyframes: int
    detected: int  # key-frames on which the chosen person was found
    people_max: int  # most people on one key-frame
    people_tracks: int  # different people over the clip
    keyframes_with_people: int
    person: str | int  # the rule used to choose the performer
    track_id: int | None  # the chosen track (None: nobody matched the rule)

    @property
    def missed(self) -> int:
        return self.keyframes - self.detected

    @property
    def detection_rate(self) -> float:
        return self.detected / self.keyframes if self.keyframes else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "missed": self.missed, "detection_rate": self.detection_rate}


@dataclass(frozen=True)
class Timings:
    """Seconds per stage: decoding, MediaPipe pose, hands, choosing the person, lifting, the report, the whole."""

    decode: float = 0.0
    pose2d: float = 0.0
    select: float = 0.0
    uplift: float = 0.0
    total: float = 0.0
    quality: float = 0.0
    hands: float = 0.0  # HandLandmarker on key-frames (hands="fingers"; not part of pose2d)

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Selection:
    """The chosen performer's key-frame landmarks laid out on the clip's frame grid (the lifter's input).

    Arrays with T rows cover frames frame_start .. frame_start + T - 1; `keyframes` index those rows.
    points2d / world3d rows are NaN off key-frames and on key-frames where the person was not found.
    """

    points2d: np.ndarray  # [T, 17, 2] float32 pixels
    world3d: np.ndarray  # [T, 17, 3] MediaPipe world landmarks mapped to our 17 joints (metres, hip-centred)
    landmarks33: np.ndarray  # [K, 33, 5] x_px, y_px, z, visibility, presence (NaN if missed)
    world33: np.ndarray  # [K, 33, 3] MediaPipe world landmarks
    detected: np.ndarray  # [K] bool: person found on that key-frame
    keyframes: np.ndarray  # [K] int rows that were sampled
    timestamps: np.ndarray  # [T] seconds from the clip's first frame
    fps: float
    image_size: tuple[int, int]  # (w, h), display orientation
    stats: CaptureStats
    warnings: tuple[str, ...] = ()
    crowding: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [K] nearest other person, body heights
    others: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # [K] other people seen
    hands2d: np.ndarray | None = None  # [T, 2, 21, 2] px, (left, right) HandLandmarker; NaN where missing
    hands3d: np.ndarray | None = None  # [T, 2, 21, 3] m, HandLandmarker world landmarks (hand-centred)


@dataclass(frozen=True)
class CaptureResult:
    """Everything a capture produced (see `Selection` for the layout of the arrays)."""

    joints3d: np.ndarray  # [T, 17, 3] float32 metres, camera coords (x right, y down, z forward), pelvis-relative
    points2d: np.ndarray  # [T, 17, 2] float32 pixels
    keyframes: np.ndarray  # [K] int: rows that were sampled (frame_start + k is the clip frame)
    fps: float
    image_size: tuple[int, int]  # (w, h), display orientation
    timestamps: np.ndarray  # [T] seconds from the clip's first frame
    timings: Timings
    stats: CaptureStats
    source: str
    stride: int = 1
    frame_start: int = 0
    detected: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # [K] person found
    world3d: np.ndarray | None = None  # [T, 17, 3] MediaPipe world landmarks, NaN off key-frames
    landmarks33: np.ndarray | None = None  # [K, 33, 5]
    world33: np.ndarray | None = None  # [K, 33, 3]
    warnings: list[str] = field(default_factory=list)  # shown to the user; a partial capture adds one
    stride_mode: str = "fixed"  # "fixed", or "auto": key-frames chosen by motion (`stride` is then the base)
    report: QualityReport | None = None  # how far to trust the capture, and which frames not to
    hands: str = "wrists"  # what capture(hands=) was: "off" | "wrists" | "fingers" (retarget reads it)
    hands2d: np.ndarray | None = None  # [T, 2, 21, 2] px (left, right); NaN off key-frames / not found
    hands3d: np.ndarray | None = None  # [T, 2, 21, 3] m, HandLandmarker world landmarks, same layout

    @classmethod
    def from_selection(
        cls,
        sel: Selection,
        joints3d: np.ndarray,
        timings: Timings,
        *,
        source: str,
        stride: int,
        frame_start: int,
        stride_mode: str = "fixed",
        report: QualityReport | None = None,
        hands: str = "wrists",
    ) -> CaptureResult:
        return cls(
            joints3d=joints3d,
            points2d=sel.points2d,
            keyframes=sel.keyframes,
            fps=sel.fps,
            image_size=sel.image_size,
            timestamps=sel.timestamps,
            timings=timings,
            stats=sel.stats,
            source=source,
            stride=stride,
            frame_start=frame_start,
            detected=sel.detected,
            world3d=sel.world3d,
            landmarks33=sel.landmarks33,
            world33=sel.world33,
            warnings=list(sel.warnings),
            stride_mode=stride_mode,
            report=report,
            hands=hands,
            hands2d=sel.hands2d,
            hands3d=sel.hands3d,
        )

    def save_npz(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write all arrays plus a JSON `meta` string (no pickles); atomic, refuses to overwrite by default."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise UpliftError(f"{path} already exists; choose another name or allow overwriting")
        meta = {
            "source": self.source,
            "stride": self.stride,
            "stride_mode": self.stride_mode,
            "frame_start": self.frame_start,
            "timings": self.timings.as_dict(),
            "stats": self.stats.as_dict(),
            "warnings": self.warnings,
            "hands": self.hands,
        }
        arrays = {
            "joints3d": self.joints3d,
            "points2d": self.points2d,
            "keyframes": self.keyframes,
            "fps": np.float64(self.fps),
            "image_size": np.asarray(self.image_size, np.int64),
            "timestamps": self.timestamps,
            "detected": self.detected,
            "stride": np.int64(self.stride),
            "frame_start": np.int64(self.frame_start),
            "meta": np.str_(json.dumps(meta)),
        }
        for name in ("world3d", "landmarks33", "world33", "hands2d", "hands3d"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        if self.report is not None:  # read back with QualityReport.from_dict(json.loads(str(z["report"])))
            arrays["report"] = np.str_(self.report.to_json())
            arrays["confidence"] = self.report.confidence
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)
            os.replace(tmp, path)
        except OSError as exc:
            raise UpliftError(f"cannot write {path}: {exc}") from None
        finally:
            if tmp.exists():
                tmp.unlink()
        return path
