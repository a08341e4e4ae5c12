"""Pose arithmetic the lifter does around the network, in numpy (why: the ONNX path must not need torch)."""

from __future__ import annotations

import numpy as np

from ..skeleton import FLIP_PERM

_PERM = list(FLIP_PERM)


def normalize_2d(px, size):
    """Pixels -> model input: x from [0, w] to [-1, 1], y with the same scale (centred, spans ±h/w).

    px: numpy array or torch tensor [..., 2]; size: (w, h) or an array [..., 2] broadcastable to px.
    """
    if isinstance(size, (tuple, list)):
        w, h = float(size[0]), float(size[1])
    else:
        w, h = size[..., 0:1], size[..., 1:2]
    x = px[..., 0:1] * (2.0 / w) - 1.0
    y = (px[..., 1:2] - 0.5 * h) * (2.0 / w)
    if type(px).__module__.startswith("torch"):  # a tensor: torch is already imported by whoever made it
        import torch

        return torch.cat([x, y], dim=-1)
    return np.concatenate([x, y], axis=-1).astype(np.float32)


def world_features(world: np.ndarray) -> np.ndarray:
    """MediaPipe world landmarks [..., 17, 3] (metres; NaN where absent) -> model input [..., 17, 4]: pelvis-
    relative x, y, z and a 1 where present, all zeros where not (what a 2D-only call and training without
    world landmarks feed). Their own axes are kept: the network learns how they sit against the camera."""
    w = np.asarray(world, np.float32)
    rel = w - w[..., :1, :]
    ok = np.isfinite(rel).all(axis=-1, keepdims=True).all(axis=-2, keepdims=True)
    out = np.concatenate([np.where(ok, rel, 0.0), np.broadcast_to(ok, rel.shape[:-1] + (1,))], axis=-1)
    return out.astype(np.float32)


def mirror_world(feat: np.ndarray) -> np.ndarray:
    """mirror_2d's partner for world_features: negate x, swap left/right joints (the flag channel stays)."""
    out = feat[..., _PERM, :].copy()
    out[..., 0] = -out[..., 0]
    return out


def mirror_2d(x2d: np.ndarray) -> np.ndarray:
    """Mirror normalised 2D about the image's vertical centre line and swap left/right joints (flip TTA)."""
    out = x2d[..., _PERM, :].copy()
    out[..., 0] = -out[..., 0]
    return out


def mirror_3d(x3d: np.ndarray) -> np.ndarray:
    """Mirror camera-space 3D (negate x) and swap left/right joints: undoes mirror_2d on the prediction."""
    out = x3d[..., _PERM, :].copy()
    out[..., 0] = -out[..., 0]
    return out
