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
