"""Test support for retarget: real mocap clips and a simulated camera (not a test module itself)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retarget import quat


def load_clip(mocap_dir: Path, name: str) -> tuple[np.ndarray, float]:
    """A clip from h36m17/*.npz in Blender world coordinates (Z up, metres) and its fps."""
    index = json.loads((mocap_dir / "h36m17" / "index.json").read_text())
    entry = next(c for c in index["clips"] if c["clip"] == name)
    files = sorted((mocap_dir / "h36m17").glob("*_h36m17.npz"), key=lambda p: not p.name.startswith(entry["source"]))
    for path in files:  # the file is named after the source, except cmu_cgspeed_{mb,max} -> _misc
        with np.load(path) as z:
            if name in z.files:
                y_up = z[name].astype(np.float64)
                break
    else:
        raise KeyError(name)
    # Mocap is +Y up: (x, y, z) -> (x, -z, y) is a proper rotation to Z up.
    return np.stack([y_up[..., 0], -y_up[..., 2], y_up[..., 1]], axis=-1), float(entry["fps"])


@dataclass
class Camera:
    """Pinhole camera at `position` (world), looking at `target`, rolled by roll_deg; fov across width."""

    position: np.ndarray
    target: np.ndarray
    roll_deg: float = 0.0
    image_size: tuple[int, int] = (1920, 1080)
    fov_deg: float = 60.0

    @property
    def world_to_cam(self) -> np.ndarray:
        fwd = quat.normalize(np.asarray(self.target, float) - self.position)
        right = quat.normalize(np.cross(fwd, [0.0, 0.0, 1.0]))
        down = np.cross(fwd, right)
        r = np.stack([right, down, fwd])  # rows: camera x (right), y (down), z (forward) in world
        c, s = np.cos(np.radians(self.roll_deg)), np.sin(np.radians(self.roll_deg))
        roll = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        return roll @ r

    @property
    def focal(self) -> float:
        return 0.5 * max(self.image_size) / np.tan(np.radians(self.fov_deg) / 2)

    def to_cam(self, world: np.ndarray) -> np.ndarray:
        return (np.asarray(world) - self.position) @ self.world_to_cam.T

    def project(self, cam: np.ndarray) -> np.ndarray:
        c = np.array(self.image_size, float) / 2
        return self.focal * cam[..., :2] / cam[..., 2:3] + c

    @property
    def up_cam(self) -> np.ndarray:
        return self.world_to_cam @ np.array([0.0, 0.0, 1.0])


def simulate(
    world: np.ndarray, cam: Camera, stride: int = 5, noise_px: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """What capture would return for this motion: pelvis-relative camera joints and sparse 2D."""
    c = cam.to_cam(world)
    p2 = cam.project(c)
    if noise_px:
        p2 = p2 + np.random.default_rng(seed).normal(0, noise_px, p2.shape)
    keep = np.zeros(len(world), bool)
    keep[::stride] = True
    p2[~keep] = np.nan
    return c - c[:, :1], p2
