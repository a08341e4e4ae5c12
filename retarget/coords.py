"""Camera coordinates -> Blender world: camera heading, Z up (up itself comes from gravity.py).

Camera coordinates (inference contract): x right, y down, z forward, metres. Blender world here: Z up,
+Y = the camera's viewing direction projected on the floor, +X = to the camera's right. A person facing
the camera therefore faces -Y with their left at +X: exactly the canonical rest pose (and Blender's
front view, which looks along +Y).
"""

from __future__ import annotations

import numpy as np

from . import quat
from .skeleton import INDEX as J

CAMERA_UP = np.array([0.0, -1.0, 0.0])  # up of a level camera, in camera coordinates


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.arccos(np.clip(np.sum(quat.normalize(a) * quat.normalize(b), axis=-1), -1.0, 1.0))


def upright_frames(joints: np.ndarray, knee_min_deg: float = 130.0, torso_max_deg: float = 30.0) -> np.ndarray:
    """bool [T]: both legs nearly straight and the torso in line with them (standing, walking)."""

    def knee(h: int, k: int, a: int) -> np.ndarray:
        return np.degrees(np.pi - _angle(joints[:, k] - joints[:, h], joints[:, a] - joints[:, k]))

    legs_ok = (knee(J["LHip"], J["LKnee"], J["LAnkle"]) > knee_min_deg) & (
        knee(J["RHip"], J["RKnee"], J["RAnkle"]) > knee_min_deg
    )
    mid_ankle = 0.5 * (joints[:, J["LAnkle"]] + joints[:, J["RAnkle"]])
    torso = joints[:, J["Thorax"]] - joints[:, J["Pelvis"]]
    legs = joints[:, J["Pelvis"]] - mid_ankle
    return legs_ok & (np.degrees(_angle(torso, legs)) < torso_max_deg)


def cam_to_world_matrix(up_cam: np.ndarray) -> np.ndarray:
    """Rotation [3,3] taking camera-coordinate vectors to the world (rows: world X, Y, Z in camera coords)."""
    z = quat.normalize(np.asarray(up_cam, dtype=np.float64))
    fwd = np.array([0.0, 0.0, 1.0])
    y = fwd - (fwd @ z) * z
    if np.linalg.norm(y) < 1e-6:  # camera looking straight down/up: use the image's up as forward
        y = CAMERA_UP - (CAMERA_UP @ z) * z
    y = quat.normalize(y)
    return np.stack([np.cross(y, z), y, z])


def to_world(x_cam: np.ndarray, r_cam_to_world: np.ndarray) -> np.ndarray:
    """Apply the rotation to points/vectors [..., 3]."""
    return np.asarray(x_cam, dtype=np.float64) @ np.asarray(r_cam_to_world).T


def facing_yaw(joints_world: np.ndarray) -> np.ndarray:
    """Heading [T] (rad about +Z) of the body's forward (-Y at rest) from the hip and shoulder lines."""
    j = np.asarray(joints_world, dtype=np.float64)
    side = quat.normalize(j[:, J["LHip"]] - j[:, J["RHip"]]) + quat.normalize(
        j[:, J["LShoulder"]] - j[:, J["RShoulder"]]
    )
    fwd = np.cross(side, np.array([0.0, 0.0, 1.0]))  # left x up = forward
    return np.arctan2(fwd[:, 0], -fwd[:, 1])


def yaw_matrix(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
