"""Pose metrics, each in a few lines. Inputs [T, 17, 3] (or [..., 17, 3]) in metres; results in mm.

Predictions and targets are pelvis-relative camera coordinates.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import BONES


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint position error."""
    return float(np.linalg.norm(pred - gt, axis=-1).mean() * 1000)


def n_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after the optimal per-frame scale of the prediction (Rhodin et al.)."""
    s = (pred * gt).sum(axis=(-1, -2), keepdims=True) / np.maximum(
        (pred * pred).sum(axis=(-1, -2), keepdims=True), 1e-9
    )
    return mpjpe(s * pred, gt)


def p_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after per-frame Procrustes alignment (rotation, scale, translation)."""
    mp, mg = pred.mean(axis=-2, keepdims=True), gt.mean(axis=-2, keepdims=True)
    p0, g0 = pred - mp, gt - mg
    np_, ng = np.linalg.norm(p0, axis=(-2, -1), keepdims=True), np.linalg.norm(g0, axis=(-2, -1), keepdims=True)
    p0, g0 = p0 / np.maximum(np_, 1e-9), g0 / np.maximum(ng, 1e-9)
    u, s, vt = np.linalg.svd(np.swapaxes(p0, -1, -2) @ g0)
    d = np.sign(np.linalg.det(u @ vt))
    u[..., :, -1] *= d[..., None]
    s[..., -1] *= d
    r = u @ vt
    aligned = (p0 @ r) * (s.sum(axis=-1)[..., None, None] * ng) + mg
    return mpjpe(aligned, gt)


def rotation_aligned(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """`pred` [T, J, 3] turned by the one rotation (about the root, for the whole clip) that fits `gt` best:
    how to compare a 3D output with its own axes (MediaPipe's world landmarks) to camera coordinates."""
    p, g = pred.reshape(-1, 3), gt.reshape(-1, 3)
    u, _, vt = np.linalg.svd(p.T @ g)
    d = np.sign(np.linalg.det(u @ vt))
    r = u @ np.diag([1.0, 1.0, d]) @ vt
    return (p @ r).reshape(pred.shape)


def velocity_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJVE: error of first differences, mm per frame."""
    return mpjpe(np.diff(pred, axis=0), np.diff(gt, axis=0))


def acceleration_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Error of second differences, mm per frame^2."""
    return mpjpe(np.diff(pred, 2, axis=0), np.diff(gt, 2, axis=0))


def acceleration(pred: np.ndarray) -> float:
    """Mean magnitude of second differences (no ground truth needed), mm per frame^2."""
    return float(np.linalg.norm(np.diff(pred, 2, axis=0), axis=-1).mean() * 1000)


def motion_range(pred: np.ndarray, gt: np.ndarray) -> float:
    """How far the joints move around their mean pose relative to the truth (1 = as far; < 1 = damped):
    position error rewards shrinking uncertain motion, which MPJPE alone does not show. Ratio in %."""
    p, g = pred - pred.mean(axis=0), gt - gt.mean(axis=0)
    return float(np.linalg.norm(p, axis=-1).mean() / max(np.linalg.norm(g, axis=-1).mean(), 1e-9) * 100)


def bone_lengths(x: np.ndarray) -> np.ndarray:
    """[..., 17, 3] -> [..., 16] bone lengths."""
    return np.stack([np.linalg.norm(x[..., c, :] - x[..., p, :], axis=-1) for c, p in BONES], axis=-1)


def bone_length_std(x: np.ndarray) -> float:
    """Std of each bone's length over time, averaged over bones, mm (0 for a rigid skeleton)."""
    return float(bone_lengths(x).std(axis=0).mean() * 1000)
