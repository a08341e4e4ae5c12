"""The quality report of a capture: how much to trust it, and which seconds not to.

Why: a capture always "succeeds", yet a person who left the frame, a limb cut off, two people crossing or a
kick between two key-frames make some stretches fiction. The report says where (`flags`, each a frame
range with a kind, see quality_flags.py) and how good the rest is (detection rate, per-frame confidence,
and summary metrics of the 3D: jitter, bone-length steadiness, foot slide while in contact). Pure numpy:
the pipeline builds it, the CLI writes it as JSON, the npz stores it, the add-on reads it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..keyframes.auto import effective_stride
from ..skeleton import INDEX
from . import flags as qf
from .flags import KINDS, WEIGHT, Evidence, Flag, bone_lengths

__all__ = ["KINDS", "Evidence", "Flag", "QualityMetrics", "QualityReport", "assess", "foot_slide"]

_ANKLES = (INDEX["LAnkle"], INDEX["RAnkle"])
CONTACT_M = 0.025  # an ankle within this of the floor level is in contact
_FOV_DEG = 60.0  # assumed horizontal field of view for placing the root (as the retargeter's default)


@dataclass(frozen=True)
class QualityMetrics:
    """Summary numbers of the 3D (NaN where they cannot be measured, e.g. no foot contact)."""

    jitter: float  # mm / frame^2: mean acceleration of the pelvis-relative joints (lower is smoother)
    bone_length_std_mm: float  # std of each bone's length over time, mean over bones (0 = rigid)
    foot_slide_mm: float  # mm / frame: mean horizontal ankle motion while the foot is on the floor

    def as_dict(self) -> dict[str, float | None]:
        return {k: (None if not math.isfinite(v) else round(float(v), 3)) for k, v in vars(self).items()}


@dataclass(frozen=True)
class QualityReport:
    """Everything the report says. Frame numbers are rows of the capture (clip frame = frame_start + row)."""

    frames: int
    frame_start: int
    fps: float
    stride: int | str  # the stride asked for: an int, or "auto"
    keyframes: np.ndarray  # [K] rows MediaPipe ran on
    detection_rate: float  # share of key-frames with the person found
    confidence: np.ndarray  # [T] 0..1: MediaPipe's min(visibility, presence), interpolated between key-frames
    flags: tuple[Flag, ...]
    metrics: QualityMetrics
    passes: int = 1  # passes over the video (auto: 1 + refining passes)
    keyframe_confidence: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # [K]

    @property
    def effective_stride(self) -> float:
        return effective_stride(self.frames, len(self.keyframes))

    @property
    def flagged_fraction(self) -> float:
        """Share of frames inside at least one flag."""
        m = np.zeros(self.frames, bool)
        for f in self.flags:
            m[f.start_frame : f.end_frame + 1] = True
        return float(m.mean()) if self.frames else 0.0

    def worst(self) -> Flag | None:
        """The flag that matters most: the longest, weighted by how bad its kind is."""
        return max(self.flags, key=lambda f: f.frames * WEIGHT.get(f.kind, 0.5), default=None)

    def counts(self) -> dict[str, int]:
        return {k: n for k in KINDS if (n := sum(f.kind == k for f in self.flags))}

    def summary(self) -> str:
        """One line for a terminal or a status bar."""
        m = self.metrics
        kinds = ", ".join(f"{n} {k}" for k, n in self.counts().items()) or "none"
        worst = self.worst()
        at = ""
        if worst is not None:
            a, b = worst.start_frame + self.frame_start, worst.end_frame + self.frame_start
            at = f"; worst: {worst.kind} frames {a}-{b}"
        slide = "n/a" if not math.isfinite(m.foot_slide_mm) else f"{m.foot_slide_mm:.1f}"
        return (
            f"quality: person on {100 * self.detection_rate:.0f} % of {len(self.keyframes)} key-frames "
            f"(effective stride {self.effective_stride:.1f}), flags: {kinds} "
            f"({100 * self.flagged_fraction:.0f} % of frames){at}; jitter {m.jitter:.1f} mm/f², "
            f"bone std {m.bone_length_std_mm:.1f} mm, foot slide {slide} mm/f"
        )

    def as_dict(self) -> dict[str, object]:
        """The JSON report (`--report`): plain types only."""
        return {
            "frames": self.frames,
            "frame_start": self.frame_start,
            "fps": self.fps,
            "stride": self.stride,
            "passes": self.passes,
            "detection_rate": round(self.detection_rate, 4),
            "keyframes": [int(k) for k in self.keyframes],
            "keyframe_count": len(self.keyframes),
            "effective_stride": round(self.effective_stride, 3),
            "flags": [f.as_dict() for f in self.flags],
            "flag_counts": self.counts(),
            "flagged_fraction": round(self.flagged_fraction, 4),
            "metrics": self.metrics.as_dict(),
            "confidence": [round(float(c), 3) for c in self.confidence],
            "keyframe_confidence": [round(float(c), 3) for c in self.keyframe_confidence],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: dict) -> QualityReport:
        """Read back what as_dict wrote (from the npz or a --report file)."""
        m = d.get("metrics") or {}
        metrics = QualityMetrics(
            *(
                float("nan") if m.get(k) is None else float(m[k])
                for k in ("jitter", "bone_length_std_mm", "foot_slide_mm")
            )
        )
        flags = tuple(
            Flag(int(f["start_frame"]), int(f["end_frame"]), str(f["kind"]), str(f["detail"]))
            for f in d.get("flags", [])
        )
        return cls(
            frames=int(d["frames"]),
            frame_start=int(d.get("frame_start", 0)),
            fps=float(d["fps"]),
            stride=d.get("stride", 1),
            keyframes=np.asarray(d["keyframes"], np.int64),
            detection_rate=float(d["detection_rate"]),
            confidence=np.asarray(d.get("confidence", []), np.float32),
            flags=flags,
            metrics=metrics,
            passes=int(d.get("passes", 1)),
            keyframe_confidence=np.asarray(d.get("keyframe_confidence", []), np.float32),
        )


def assess(
    ev: Evidence, joints3d: np.ndarray, *, stride: int | str, frame_start: int = 0, passes: int = 1
) -> QualityReport:
    """Build the report from the key-frame evidence and the lifted 3D [T, 17, 3]."""
    T = ev.n_frames
    kconf = qf.keyframe_confidence(ev).astype(np.float32)
    conf = np.interp(np.arange(T), ev.keys, kconf).astype(np.float32) if len(ev.keys) else np.zeros(T, np.float32)
    flags = [
        *qf.lost(ev),
        *qf.cut_off(ev),
        *qf.low_confidence(ev),
        *qf.swap(ev),
        *qf.identity(ev),
        *qf.fast(ev),
        *qf.breathing(joints3d, ev.fps),
    ]
    flags.sort(key=lambda f: (f.start_frame, KINDS.index(f.kind), f.end_frame))
    metrics = QualityMetrics(
        jitter=jitter(joints3d), bone_length_std_mm=bone_length_std(joints3d), foot_slide_mm=foot_slide(joints3d, ev)
    )
    rate = float(ev.detected.mean()) if len(ev.detected) else 0.0
    return QualityReport(
        frames=T,
        frame_start=int(frame_start),
        fps=float(ev.fps),
        stride=stride,
        keyframes=np.asarray(ev.keys, np.int64),
        detection_rate=rate,
        confidence=conf,
        flags=tuple(flags),
        metrics=metrics,
        passes=int(passes),
        keyframe_confidence=kconf,
    )


def jitter(joints3d: np.ndarray) -> float:
    """Mean magnitude of the second difference of the pelvis-relative joints, mm / frame^2."""
    j = np.asarray(joints3d, np.float64)
    j = j - j[:, :1]
    if len(j) < 3:
        return float("nan")
    return float(np.linalg.norm(np.diff(j, 2, axis=0), axis=-1).mean() * 1000)


def bone_length_std(joints3d: np.ndarray) -> float:
    if len(joints3d) < 2:
        return float("nan")
    return float(bone_lengths(np.asarray(joints3d, np.float64)).std(axis=0).mean() * 1000)


def _root(joints: np.ndarray, points: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Pelvis position in camera coordinates for one key-frame: the translation t that makes the
    pelvis-relative joints X project onto their 2D points through a pinhole (linear least squares:
    f (X + t)_xy = (uv - c) (Z + t_z))."""
    w, h = image_size
    f = 0.5 * max(w, h) / math.tan(math.radians(_FOV_DEG) / 2)
    uv = points - np.array([w / 2, h / 2])
    A = np.zeros((17, 2, 3))
    A[:, 0, 0] = A[:, 1, 1] = f
    A[:, :, 2] = -uv
    b = uv * joints[:, 2:3] - f * joints[:, :2]
    t, *_ = np.linalg.lstsq(A.reshape(-1, 3), b.reshape(-1), rcond=None)
    return t


def _smooth(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over n frames along axis 0 (edges use what is there)."""
    if n <= 1 or len(x) < 2:
        return x
    k = np.ones(n) / n
    pad = np.pad(x, [(n // 2, n - 1 - n // 2)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    return np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 0, pad)


def foot_slide(joints3d: np.ndarray, ev: Evidence) -> float:
    """Mean horizontal ankle motion (mm / frame) on frames where that ankle is on the floor.

    The root is placed from the key-frame 2D (as the retargeter does, simplified), interpolated and
    smoothed (depth over 1 s: it is the noisiest axis); "up" is the mean torso direction, the floor the
    level of the lower ankle in the lowest 10 % of frames, contact = within CONTACT_M of it. An estimate of
    what the raw capture does; the retargeter's foot lock removes most of it.
    """
    j = np.asarray(joints3d, np.float64)
    T = len(j)
    ok = ev.detected & np.isfinite(ev.points2d).all(axis=(1, 2))
    if T < 3 or ok.sum() < 2:
        return float("nan")
    keys = ev.keys[ok]
    roots = np.array([_root(j[k] - j[k, 0], p, ev.image_size) for k, p in zip(keys, ev.points2d[ok])])
    root = np.stack([np.interp(np.arange(T), keys, roots[:, d]) for d in range(3)], axis=1)
    fps = max(ev.fps, 1.0)
    root[:, :2] = _smooth(root[:, :2], max(1, round(0.2 * fps)))
    root[:, 2] = _smooth(root[:, 2:], max(1, round(1.0 * fps)))[:, 0]
    ab = j - j[:, :1] + root[:, None]
    up = np.mean(j[:, INDEX["Thorax"]] - j[:, INDEX["Pelvis"]], axis=0)
    up = up / max(np.linalg.norm(up), 1e-9)
    ank = ab[:, list(_ANKLES)]  # [T, 2, 3]
    height = ank @ up
    low = height.min(axis=1)
    floor = float(np.percentile(low, 10))
    contact = height < floor + CONTACT_M
    step = np.diff(ank, axis=0)
    horiz = step - (step @ up)[..., None] * up
    both = contact[1:] & contact[:-1]
    if not both.any():
        return float("nan")
    return float(np.linalg.norm(horiz, axis=-1)[both].mean() * 1000)
