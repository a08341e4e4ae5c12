"""Rotations seen on key-frames only -> one rotation per frame.

Pure numpy (runs inside Blender). Used by everything driven from the sparse MediaPipe key-frames (fingers,
head, wrists). Why it is built this way:
- Rotations are interpolated as rotations (slerp between neighbouring key-frames) and smoothed as
  rotations (a zero-phase Gaussian on sign-continuous quaternions, renormalised), never as Euler
  angles, which wrap and gimbal-lock at the large head turns and forearm rolls these bones make.
- A key-frame where the landmarks were not found holds the last rotation seen (`hold_s`) and then eases
  back to the neutral pose (identity: the rotations here are relative to a parent) over `blend_s`, so a
  short dropout does not make the bone twitch and a long one does not freeze it in an odd pose.
"""

from __future__ import annotations

import numpy as np

from . import quat as Q

IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical interpolation between unit quaternions a and b (same shape [..., 4]) at t in [0, 1]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[..., None]
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0, -b, b)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin = np.sin(theta)
    near = sin < 1e-6
    wa = np.where(near, 1 - t, np.sin((1 - t) * theta) / np.where(near, 1, sin))
    wb = np.where(near, t, np.sin(t * theta) / np.where(near, 1, sin))
    return Q.normalize(wa * a + wb * b)


def clamp_angle(q: np.ndarray, limit: float) -> np.ndarray:
    """Rotations [..., 4] (w >= 0 made) whose angle exceeds `limit` (rad) cut back to it about the same axis."""
    q = np.where(q[..., :1] < 0, -q, q)
    ang = 2 * np.arccos(np.clip(q[..., 0], -1.0, 1.0))
    t = np.where(ang > limit, limit / np.maximum(ang, 1e-9), 1.0)
    return slerp(np.broadcast_to(IDENTITY, q.shape), q, t)


def slerp_keys(rows: np.ndarray, q: np.ndarray, n_frames: int) -> np.ndarray:
    """Quaternions [K, 4] on key rows -> [T, 4] on every frame: slerp between neighbours, held at the ends."""
    rows = np.asarray(rows, np.int64)
    t = np.arange(n_frames)
    hi = np.clip(np.searchsorted(rows, t, side="right"), 1, len(rows) - 1) if len(rows) > 1 else np.zeros_like(t)
    lo = np.maximum(hi - 1, 0)
    span = np.maximum(rows[hi] - rows[lo], 1)
    u = np.clip((t - rows[lo]) / span, 0.0, 1.0)
    return Q.make_continuous(slerp(q[lo], q[hi], u))


def fill_missing(q: np.ndarray, ok: np.ndarray, times: np.ndarray, hold_s: float, blend_s: float) -> np.ndarray:
    """Key-frame rotations [K, 4] with the rows not found (ok False) filled: the last found rotation (the
    first one before any) is held; only a loss longer than `hold_s` (and more than one key-frame) eases
    back to identity over `blend_s`. When found again, the slerp between key-frames blends it back."""
    out = np.array(q, np.float64, copy=True)
    found = np.flatnonzero(ok)
    if not len(found):
        out[:] = IDENTITY
        return out
    for i in np.flatnonzero(~np.asarray(ok, bool)):
        prev, nxt = found[found < i], found[found > i]
        j = prev[-1] if len(prev) else nxt[0]
        single = len(prev) and len(nxt) and nxt[0] - prev[-1] == 2
        t = 0.0 if single else np.clip((abs(times[i] - times[j]) - hold_s) / max(blend_s, 1e-6), 0.0, 1.0)
        out[i] = slerp(q[j], IDENTITY, t * t * (3 - 2 * t))
    return out


def smooth(q: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing of quaternions [T, 4] over time (sign-continuous first, renormalised
    after; edges reflected, so the ends are not pulled towards zero)."""
    q = Q.make_continuous(np.asarray(q, np.float64))
    if sigma_frames <= 0.3 or len(q) < 3:
        return q
    r = int(np.ceil(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    pad = (
        np.pad(q, ((r, r), (0, 0)), mode="reflect", reflect_type="odd")
        if len(q) > r
        else np.pad(q, ((r, r), (0, 0)), mode="edge")
    )
    out = np.stack([np.convolve(pad[:, c], k, mode="valid") for c in range(4)], axis=1)
    return Q.make_continuous(Q.normalize(out))


def per_frame(
    q_keys: np.ndarray,
    ok: np.ndarray,
    rows: np.ndarray,
    n_frames: int,
    fps: float,
    *,
    hold_s: float = 0.4,
    blend_s: float = 0.6,
    smooth_s: float | None = None,
) -> np.ndarray:
    """Key-frame rotations [K, 4] (rows of the clip, `ok` where seen) -> [T, 4]: missing keys held then
    eased to identity, slerp between keys, then smoothed with sigma `smooth_s` (default: a third of the
    mean key spacing, which rounds the corners of the slerp without lagging the motion)."""
    rows = np.asarray(rows, np.int64)
    if not len(rows):
        return np.tile(IDENTITY, (n_frames, 1))
    filled = fill_missing(Q.make_continuous(Q.normalize(q_keys)), ok, rows / float(fps), hold_s, blend_s)
    out = slerp_keys(rows, filled, n_frames)
    spacing = (rows[-1] - rows[0]) / max(len(rows) - 1, 1) if len(rows) > 1 else 1.0
    sigma = spacing / 3.0 if smooth_s is None else smooth_s * fps
    return smooth(out, sigma)
