"""Make projected mocap look like MediaPipe detections: landmark semantics, jitter, outliers, swaps.

Two parts, both per window (= per sequence):
1. `detector_points_3d`: where MediaPipe's points sit relative to the mocap joints. Its hips are above and
   outside the joint centres (shift 0-6 cm up, -1..3 cm out), its "head" is the ear midpoint (20-80 % of the
   way from the mocap head base to the head top), its "nose" is 8-12 cm in front of the face (along the torso's
   facing direction). Then `inference.pose2d.landmarks.canonical_torso_2d` rebuilds Pelvis/Spine/Thorax in 2D
   exactly as it does for MediaPipe.
2. `detector_noise`: per-joint Gaussian jitter with sigma proportional to the person's size in pixels
   (0.2-2 % of body height, extremities x1.5), occasional outliers (0-2 % of points, ~15 % of body height),
   occasional left/right limb swaps (0-1 % of frames). Lost key-frames are made by the key-mask sampler.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import INDEX
from .data import torso_forward

_EXTREMITY = np.ones(17, dtype=np.float32)
for _n in ("LWrist", "RWrist", "LAnkle", "RAnkle", "LElbow", "RElbow"):
    _EXTREMITY[INDEX[_n]] = 1.5
_SWAPS = (
    (INDEX["LHip"], INDEX["RHip"]),
    (INDEX["LKnee"], INDEX["RKnee"]),
    (INDEX["LAnkle"], INDEX["RAnkle"]),
    (INDEX["LWrist"], INDEX["RWrist"]),
    (INDEX["LElbow"], INDEX["RElbow"]),
)


def detector_points_3d(cam: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """Camera-space joints [B, N, 17, 3] -> MediaPipe-like points; rng None = mean offsets (evaluation)."""
    b = cam.shape[0]

    def draw(lo: float, hi: float) -> np.ndarray:
        v = np.full(b, 0.5 * (lo + hi)) if rng is None else rng.uniform(lo, hi, b)
        return v.astype(np.float32)[:, None, None]

    out = cam.copy()
    i = INDEX
    up = cam[..., i["Thorax"], :] - cam[..., i["Pelvis"], :]
    up /= np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-6)
    side = cam[..., i["LHip"], :] - cam[..., i["RHip"], :]
    side /= np.maximum(np.linalg.norm(side, axis=-1, keepdims=True), 1e-6)
    h_up, h_out = draw(0.0, 0.06), draw(-0.01, 0.03)
    out[..., i["LHip"], :] += h_up * up + h_out * side
    out[..., i["RHip"], :] += h_up * up - h_out * side
    # torso_forward expects +Y up; camera y points down, so flip the sign of its result.
    fwd = -torso_forward(cam)
    neck, head = cam[..., i["Neck"], :], cam[..., i["Head"], :]
    out[..., i["Head"], :] = neck + draw(0.2, 0.8) * (head - neck)
    out[..., i["Neck"], :] = neck + draw(0.3, 0.6) * (head - neck) + draw(0.08, 0.12) * fwd
    return out


def detector_noise(
    px: np.ndarray,
    rng: np.random.Generator,
    sigma_rel: tuple[float, float] = (0.002, 0.02),
    outlier_p: float = 0.02,
    swap_p: float = 0.01,
) -> np.ndarray:
    """Pixel points [B, N, 17, 2] -> noisy copy (see module docstring)."""
    b, n = px.shape[:2]
    flat = px.reshape(b, -1, 2)
    body = np.maximum(np.ptp(flat[..., 1], axis=1), np.ptp(flat[..., 0], axis=1) * 0.5)
    body = np.maximum(body, 20.0)[:, None, None, None]
    sig = np.exp(rng.uniform(np.log(sigma_rel[0]), np.log(sigma_rel[1]), b))[:, None, None, None]
    out = px + rng.standard_normal(px.shape).astype(np.float32) * (sig * body * _EXTREMITY[None, None, :, None])
    p_out = rng.uniform(0, outlier_p, b)[:, None, None]
    hit = rng.random(px.shape[:3]) < p_out
    out = np.where(hit[..., None], out + rng.standard_normal(px.shape).astype(np.float32) * 0.15 * body, out)
    p_swap = rng.uniform(0, swap_p, b)[:, None]
    swap = rng.random((b, n)) < p_swap
    if swap.any():
        pair = _SWAPS[rng.integers(len(_SWAPS))]
        bi, ti = np.nonzero(swap)
        a, c = out[bi, ti, pair[0]].copy(), out[bi, ti, pair[1]].copy()
        out[bi, ti, pair[0]], out[bi, ti, pair[1]] = c, a
    return out.astype(np.float32)
