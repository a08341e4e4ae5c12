"""MediaPipe's 33 pose landmarks on key-frames -> directions in the motion's world frame.

Pure numpy. MediaPipe's world landmarks are hip-centred metres in a camera-like frame with its own tilt
(docs/retarget.md: 4-12 deg from the lifter's, and its axis conventions are its own). So nothing here
trusts its axes: each key-frame's landmarks are expressed in MediaPipe's own torso frame (hips and
shoulders of the same 33 points) and placed into our torso frame (the motion's joints on that frame).
Face, hand and foot landmarks then sit on our body the way they sat on MediaPipe's, whatever its axes,
its handedness or its tilt.
"""

from __future__ import annotations

import numpy as np

from . import quat as Q
from .skeleton import INDEX

NOSE, L_EYE, R_EYE, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 2, 5, 7, 8, 9, 10
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX, L_THUMB, R_THUMB = 17, 18, 19, 20, 21, 22
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_FOOT_INDEX, R_FOOT_INDEX = 29, 30, 31, 32
FACE = (NOSE, L_EYE, R_EYE, L_EAR, R_EAR, MOUTH_L, MOUTH_R)
# Per side (L, R): the hand (wrist, index knuckle, pinky knuckle, thumb) and the foot (ankle, heel, toe tip).
HAND = {"L": (L_WRIST, L_INDEX, L_PINKY, L_THUMB), "R": (R_WRIST, R_INDEX, R_PINKY, R_THUMB)}
ELBOW = {"L": L_ELBOW, "R": R_ELBOW}
KNEE = {"L": L_KNEE, "R": R_KNEE}
FOOT = {"L": (L_ANKLE, L_HEEL, L_FOOT_INDEX), "R": (R_ANKLE, R_HEEL, R_FOOT_INDEX)}


def torso_frame(l_hip: np.ndarray, r_hip: np.ndarray, l_sh: np.ndarray, r_sh: np.ndarray) -> np.ndarray:
    """[..., 3, 3] columns (left, back, up) of a torso: left from the hip and shoulder lines, up from
    mid-hips to mid-shoulders made orthogonal, back = up x left (Blender's rest: +X, +Y, +Z)."""
    left = Q.normalize(Q.normalize(l_hip - r_hip) + Q.normalize(l_sh - r_sh))
    up = 0.5 * (l_sh + r_sh) - 0.5 * (l_hip + r_hip)
    up = Q.normalize(up - np.sum(up * left, axis=-1, keepdims=True) * left)
    return np.stack([left, np.cross(up, left), up], axis=-1)


def mediapipe_torso(world33: np.ndarray) -> np.ndarray:
    """Torso frames [K, 3, 3] of MediaPipe landmarks [K, 33, 3], in MediaPipe's coordinates. If its
    coordinates are left-handed the cross product points the 'back' axis forwards: the nose must lie in
    front of the shoulders, so the axis is flipped where the clip's median says so."""
    w = np.asarray(world33, np.float64)
    f = torso_frame(w[:, L_HIP], w[:, R_HIP], w[:, L_SHOULDER], w[:, R_SHOULDER])
    nose = w[:, NOSE] - 0.5 * (w[:, L_SHOULDER] + w[:, R_SHOULDER])
    ahead = np.sum(nose * f[:, :, 1], axis=-1)
    if np.isfinite(ahead).any() and np.nanmedian(ahead) > 0:
        f[:, :, 1] *= -1
    return f


def motion_torso(joints: np.ndarray) -> np.ndarray:
    """Torso frames [T, 3, 3] of the motion's 17 world joints."""
    j = np.asarray(joints, np.float64)
    return torso_frame(j[:, INDEX["LHip"]], j[:, INDEX["RHip"]], j[:, INDEX["LShoulder"]], j[:, INDEX["RShoulder"]])


def to_world(world33: np.ndarray, joints: np.ndarray, keyframes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks [K, 33, 3] rotated from MediaPipe's torso onto the motion's torso on each key-frame
    (mid-hips at the origin: use differences), and which key-frames are usable [K] (all finite)."""
    w = np.asarray(world33, np.float64)
    rows = np.asarray(keyframes, np.int64)
    ok = np.isfinite(w).all(axis=(1, 2))
    safe = np.where(ok[:, None, None], w, 0.0)
    with np.errstate(invalid="ignore"):
        f_mp = mediapipe_torso(w)
    f_mp[~ok] = np.eye(3)
    m = motion_torso(np.asarray(joints, np.float64)[rows]) @ np.swapaxes(f_mp, 1, 2)
    mid = 0.5 * (safe[:, L_HIP] + safe[:, R_HIP])
    return np.einsum("kij,knj->kni", m, safe - mid[:, None]), ok
