"""MediaPipe-like world landmarks for synthetic windows, from a noise model measured on the rendered pairs.

Why: only rendered windows carry MediaPipe's real world landmarks, and they are few (tens of clips), so a
world-input lifter would learn their quirks by heart. Synthetic windows get stand-ins: the true pelvis-
relative joints turned by a random rotation (MediaPipe's world frame has its own axes: 14 deg from the camera's
in the median clip), scaled like its sizes, plus per-joint errors with the spread those pairs show, half fixed
over a window (a pose read wrong stays wrong) and half fresh per key-frame. Measured from whatever
pairs a run trains on (`fit_world_noise`), so the model follows the data, not constants typed in here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..lift.poses import world_features
from . import metrics as M


@dataclass
class WorldNoise:
    """rot_deg [C] per-clip angle between their axes and the camera's; scale [C] their size / true size;
    joint_std [17, 3] metres, per joint and camera axis, after the per-clip rotation."""

    rot_deg: np.ndarray
    scale: np.ndarray
    joint_std: np.ndarray


def fit_world_noise(seqs: list[dict]) -> WorldNoise:
    """From rendered sequences (pairs.rendered_sequences): per clip, their world landmarks against the exact
    pelvis-relative joints on the detected key-frames."""
    rots, scales, res = [], [], []
    for s in seqs:
        k = s["keys"][np.isfinite(s["mp_world"][s["keys"]]).all(axis=(1, 2))]
        if len(k) < 2:
            continue
        w = s["mp_world"][k] - s["mp_world"][k][:, :1]
        g = s["gt"][k]
        aligned = M.rotation_aligned(w, g)
        r, _ = Rotation.align_vectors(aligned.reshape(-1, 3), w.reshape(-1, 3))
        rots.append(np.degrees(r.magnitude()))
        scales.append(np.linalg.norm(w, axis=-1).sum() / max(np.linalg.norm(g, axis=-1).sum(), 1e-9))
        res.append(aligned - g)
    if not res:
        raise ValueError("no rendered sequence has two key-frames with world landmarks to measure")
    return WorldNoise(np.array(rots), np.array(scales), np.concatenate(res).std(axis=0))


def synthetic_world(y3d: np.ndarray, key: np.ndarray, noise: WorldNoise, rng: np.random.Generator) -> np.ndarray:
    """y3d [b,n,17,3] true pelvis-relative camera joints, key [b,n] -> world features [b,n,17,4] on key-frames."""
    b = len(y3d)
    axis = rng.normal(size=(b, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    angle = np.radians(rng.choice(noise.rot_deg, b))
    rot = Rotation.from_rotvec(axis * angle[:, None]).as_matrix().astype(np.float32)  # [b,3,3]
    scale = rng.choice(noise.scale, b).astype(np.float32)
    half = noise.joint_std / np.sqrt(2.0)
    err = rng.normal(size=(b, 1, 17, 3)) * half + rng.normal(size=y3d.shape) * half
    world = scale[:, None, None, None] * np.einsum("bij,bnkj->bnki", rot, y3d + err.astype(np.float32))
    world[~key] = np.nan
    return world_features(world)
