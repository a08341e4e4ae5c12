"""The flag detectors of the quality report: which frame ranges of a capture to distrust, and why.

Each detector reads key-frame evidence (MediaPipe's landmarks, the tracker's view of other people, the
chosen person's 2D) or the lifted 3D, and returns Flags over frame rows. A key-frame's verdict covers the
frames up to the next key-frame: nothing after it says otherwise. Pure numpy; thresholds are module
constants, chosen on the shared clips so that clean footage raises none (see docs/capture.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..keyframes.auto import interval_motion
from ..skeleton import BONES

# BlazePose landmarks whose loss matters (33-index) and how to name them.
PARTS = {
    0: "head",
    13: "left elbow",
    14: "right elbow",
    15: "left wrist",
    16: "right wrist",
    25: "left knee",
    26: "right knee",
    27: "left ankle",
    28: "right ankle",
}
LIMBS = (13, 14, 15, 16, 25, 26, 27, 28)
BODY = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
PRESENT = 0.5  # presence below this: MediaPipe thinks the landmark is outside the image
VISIBLE = 0.5  # visibility below this (inside the image): occluded
OCCLUDED_LIMBS = 4  # occluded limb landmarks on one key-frame that make it low-confidence
CONFIDENCE_LOW = 0.5  # mean min(visibility, presence) of the body landmarks below this: low-confidence
CROWD = 0.6  # another person's torso within this many body heights: identity uncertain
SIZE_JUMP = 1.35  # the tracked person's size changing by this factor between key-frames: a switch
FAST = 0.25  # 2D motion between neighbouring key-frames (body heights) the lifter cannot follow
BONE_DEV = 0.15  # median relative bone-length deviation from the clip's median: breathing
BONE_MIN_S = 0.2  # seconds a bone-length deviation must last to be flagged


@dataclass(frozen=True)
class Flag:
    """A frame range to distrust. Frames are rows of the capture (clip frame = frame_start + row), both
    ends included; kind is one of KINDS; detail says what was seen, in words."""

    start_frame: int
    end_frame: int
    kind: str
    detail: str

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame + 1

    def as_dict(self) -> dict[str, object]:
        return {"start_frame": self.start_frame, "end_frame": self.end_frame, "kind": self.kind, "detail": self.detail}


KINDS = ("lost", "low_confidence", "swap", "identity", "fast", "cut_off", "breathing")
# How much a flagged frame of each kind matters when naming the worst range.
WEIGHT = {
    "lost": 1.0,
    "identity": 1.0,
    "swap": 0.8,
    "cut_off": 0.6,
    "fast": 0.6,
    "low_confidence": 0.5,
    "breathing": 0.4,
}


@dataclass(frozen=True)
class Evidence:
    """What the detectors read. K key-frames (rows `keys`) of a T-row capture."""

    keys: np.ndarray  # [K] int rows
    n_frames: int
    fps: float
    image_size: tuple[int, int]
    detected: np.ndarray  # [K] bool
    landmarks33: np.ndarray  # [K, 33, 5] x_px, y_px, z, visibility, presence (NaN where missed)
    world33: np.ndarray  # [K, 33, 3]
    points2d: np.ndarray  # [K, 17, 2] the chosen person's joints on the key-frames
    crowding: np.ndarray  # [K] distance to the nearest other person (body heights), inf when alone
    others: np.ndarray  # [K] int: other people seen on the key-frame

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Rows covered by key-frames i..j: up to the frame before key-frame j + 1."""
        end = int(self.keys[j + 1]) - 1 if j + 1 < len(self.keys) else self.n_frames - 1
        return int(self.keys[i]), max(int(self.keys[i]), end)

    def seconds(self, a: int, b: int) -> str:
        return f"{(b - a + 1) / self.fps:.1f} s"


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index pairs of the True runs of a 1-D mask."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]]).astype(np.int8)
    d = np.flatnonzero(np.diff(m))
    return [(int(a), int(b) - 1) for a, b in zip(d[::2], d[1::2])]


def _names(ids: Sequence[int]) -> str:
    return ", ".join(PARTS[i] for i in sorted(set(ids)))


def out_of_frame(ev: Evidence) -> np.ndarray:
    """[K, 33] landmarks outside the image (by position, with a 1 % margin, or by MediaPipe's presence)."""
    lm = ev.landmarks33
    w, h = ev.image_size
    m = 0.01 * max(w, h)
    with np.errstate(invalid="ignore"):
        pos = (lm[..., 0] < -m) | (lm[..., 0] > w + m) | (lm[..., 1] < -m) | (lm[..., 1] > h + m)
        return ev.detected[:, None] & (pos | (lm[..., 4] < PRESENT))


def keyframe_confidence(ev: Evidence) -> np.ndarray:
    """[K] in 0..1: mean over the body landmarks of min(visibility, presence); 0 where nobody was found."""
    lm = ev.landmarks33[:, list(BODY)]
    c = np.fmin(lm[..., 3], lm[..., 4])
    n = np.isfinite(c).sum(axis=1)
    mean = np.nansum(c, axis=1) / np.maximum(n, 1)
    return np.where(ev.detected & (n > 0), mean, 0.0)


def lost(ev: Evidence) -> list[Flag]:
    out = []
    for i, j in runs(~ev.detected):
        a, b = ev.span(i, j)
        who = " (other people were seen: the tracked one was not)" if ev.others[i : j + 1].any() else ""
        out.append(
            Flag(a, b, "lost", f"no person on {j - i + 1} key-frame{'s' if j > i else ''} ({ev.seconds(a, b)}){who}")
        )
    return out


def cut_off(ev: Evidence) -> list[Flag]:
    out_ = out_of_frame(ev)[:, list(PARTS)]
    ids = np.array(list(PARTS))
    out = []
    for i, j in runs(out_.any(axis=1)):
        a, b = ev.span(i, j)
        parts = ids[out_[i : j + 1].any(axis=0)]
        out.append(Flag(a, b, "cut_off", f"{_names(parts)} out of frame ({ev.seconds(a, b)})"))
    return out


def low_confidence(ev: Evidence) -> list[Flag]:
    """Occlusion: many limb landmarks inside the image but not visible, or low confidence overall."""
    inside = ~out_of_frame(ev)
    vis = ev.landmarks33[..., 3]
    with np.errstate(invalid="ignore"):
        occluded = inside & (vis < VISIBLE)
    limbs = occluded[:, list(LIMBS)]
    conf = keyframe_confidence(ev)
    bad = ev.detected & ((limbs.sum(axis=1) >= OCCLUDED_LIMBS) | (conf < CONFIDENCE_LOW))
    out = []
    ids = np.array(LIMBS)
    for i, j in runs(bad):
        a, b = ev.span(i, j)
        parts = ids[limbs[i : j + 1].any(axis=0)]
        what = f"occluded: {_names(parts)}" if len(parts) else "MediaPipe is unsure of the whole body"
        out.append(
            Flag(a, b, "low_confidence", f"{what}; mean confidence {conf[i : j + 1].mean():.2f} ({ev.seconds(a, b)})")
        )
    return out


def _facing(world33: np.ndarray) -> np.ndarray:
    """[K, 3] unit facing direction of MediaPipe's 3D body (sign convention irrelevant: flips are compared)."""
    w = world33
    up = 0.5 * (w[:, 11] + w[:, 12]) - 0.5 * (w[:, 23] + w[:, 24])
    side = (w[:, 11] - w[:, 12]) + (w[:, 23] - w[:, 24])
    f = np.cross(up, side)
    return f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-9)


def swap(ev: Evidence, crossed_m: float = 0.05, flip_deg: float = 120.0) -> list[Flag]:
    """Left/right swaps. Legs: in MediaPipe's own 3D the left knee and ankle lie to the right of the right
    ones along the hip axis (a 2D label swap carries into its 3D). Whole body: the facing direction turns
    round on one key-frame and back on the next (a real turn does not reverse within a key-frame)."""
    w = ev.world33
    K = len(ev.keys)
    legs = np.zeros(K, bool)
    body = np.zeros(K, bool)
    ok = ev.detected & np.isfinite(w).all(axis=(1, 2))
    if ok.any():
        hip = w[:, 23] - w[:, 24]
        hip = hip / np.maximum(np.linalg.norm(hip, axis=-1, keepdims=True), 1e-9)
        knee = np.einsum("kd,kd->k", w[:, 25] - w[:, 26], hip)
        ankle = np.einsum("kd,kd->k", w[:, 27] - w[:, 28], hip)
        with np.errstate(invalid="ignore"):
            legs = ok & (knee < -crossed_m) & (ankle < -crossed_m)
        f = _facing(np.nan_to_num(w))
        cos = np.cos(np.radians(flip_deg))
        for k in range(1, K - 1):
            if ok[k - 1] and ok[k] and ok[k + 1]:
                body[k] = (f[k] @ f[k - 1] < cos) and (f[k] @ f[k + 1] < cos) and (f[k - 1] @ f[k + 1] > 0.5)
    out = []
    for mask, what in (
        (legs, "legs crossed in MediaPipe's 3D: left and right leg likely swapped"),
        (body, "the body faced the other way for one key-frame: left and right likely swapped"),
    ):
        for i, j in runs(mask):
            a, b = ev.span(i, j)
            out.append(Flag(a, b, "swap", f"{what} ({ev.seconds(a, b)})"))
    return out


def _scale(lm: np.ndarray) -> np.ndarray:
    """[K] body size in pixels from the torso, bounded below by the body box (as the tracker measures it)."""
    xy = lm[..., :2]
    torso = np.linalg.norm(xy[:, [11, 12]].mean(axis=1) - xy[:, [23, 24]].mean(axis=1), axis=-1)
    body = xy[:, list(BODY[1:])]
    box = np.linalg.norm(body.max(axis=1) - body.min(axis=1), axis=-1)
    return np.maximum(3.3 * torso, 0.6 * box)


def identity(ev: Evidence) -> list[Flag]:
    """The tracked person may be someone else: another person overlapping them (people crossing), or their
    size jumping between two neighbouring key-frames (the track went over to a different body)."""
    close = ev.detected & (ev.crowding < CROWD)
    out = []
    for i, j in runs(close):
        a, b = ev.span(i, j)
        out.append(
            Flag(
                a,
                b,
                "identity",
                f"another person within {ev.crowding[i : j + 1].min():.2f} body heights:"
                f" the tracked person may have been swapped ({ev.seconds(a, b)})",
            )
        )
    idx = np.flatnonzero(ev.detected)
    s = _scale(ev.landmarks33[idx]) if len(idx) else np.zeros(0)
    for n in range(len(idx) - 1):
        i, j = idx[n], idx[n + 1]
        ratio = float(max(s[n], s[n + 1]) / max(min(s[n], s[n + 1]), 1e-6))
        if ratio >= SIZE_JUMP and ev.keys[j] - ev.keys[i] <= ev.fps:
            out.append(
                Flag(
                    int(ev.keys[i]),
                    int(ev.keys[j]),
                    "identity",
                    f"the tracked person's size changed x{ratio:.2f} between key-frames: probably a different person",
                )
            )
    return out


def fast(ev: Evidence, threshold: float = FAST) -> list[Flag]:
    """Intervals where the 2D moved more than `threshold` body heights between neighbouring key-frames."""
    moved = interval_motion(ev.keys, ev.points2d)
    out = []
    with np.errstate(invalid="ignore"):
        mask = moved > threshold
    for i, j in runs(mask):
        a, b = int(ev.keys[i]), int(ev.keys[j + 1])
        top = float(np.nanmax(moved[i : j + 1]))
        out.append(
            Flag(
                a,
                b,
                "fast",
                f"moved up to {top:.2f} body heights between key-frames "
                f"{int(np.diff(ev.keys[i : j + 2]).max())} frames apart: use a smaller "
                f"stride or --stride auto",
            )
        )
    return out


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """[T, 17, 3] -> [T, 16]."""
    return np.stack([np.linalg.norm(joints[:, c] - joints[:, p], axis=-1) for c, p in BONES], axis=-1)


def breathing(joints3d: np.ndarray, fps: float) -> list[Flag]:
    """Frames whose bone lengths stray from the clip's own (a real body does not grow or shrink)."""
    if len(joints3d) < 3:
        return []
    L = bone_lengths(np.asarray(joints3d, np.float64))
    med = np.median(L, axis=0)
    dev = np.median(np.abs(L - med) / np.maximum(med, 1e-6), axis=1)
    out = []
    for a, b in runs(dev > BONE_DEV):
        if b - a + 1 >= max(1, round(BONE_MIN_S * fps)):
            out.append(
                Flag(
                    a,
                    b,
                    "breathing",
                    f"bone lengths off by {100 * dev[a : b + 1].max():.0f} % "
                    f"(median over bones) for {(b - a + 1) / fps:.1f} s",
                )
            )
    return out
