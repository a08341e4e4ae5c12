"""Head and neck rotation from MediaPipe's face landmarks on key-frames, relative to the chest.

Pure numpy. The 17 lifted joints give the head only a nose and a crown: yaw comes from a nearly
degenerate plane and roll not at all. The face landmarks (ears, eyes, mouth) fix all three: the face frame
is left = ear line + eye line, up = mouth -> eyes, back = up x left. It is measured in the motion's world
(`landmarks.to_world`), taken relative to the chest segment, clamped to what a neck can do, carried to
every frame as a rotation (`keyed.per_frame`) and split between the neck (`NECK_SHARE`) and the head.
"""

from __future__ import annotations

import numpy as np

from . import keyed
from . import landmarks as L
from . import quat as Q

NECK_SHARE = 0.4  # of the head's turn relative to the chest that the neck bone takes
YAW_LIMIT_DEG = 90.0  # turn about the chest's up axis
TILT_LIMIT_DEG = 70.0  # nod and side tilt together (the swing part)
_UP = np.array([0.0, 0.0, 1.0])


def face_frame(lm: np.ndarray) -> np.ndarray:
    """[K, 3, 3] columns (left, back, up) of the face from world-frame landmarks [K, 33, 3]."""
    left = Q.normalize(Q.normalize(lm[:, L.L_EAR] - lm[:, L.R_EAR]) + Q.normalize(lm[:, L.L_EYE] - lm[:, L.R_EYE]))
    up = 0.5 * (lm[:, L.L_EYE] + lm[:, L.R_EYE]) - 0.5 * (lm[:, L.MOUTH_L] + lm[:, L.MOUTH_R])
    up = Q.normalize(up - np.sum(up * left, axis=-1, keepdims=True) * left)
    return np.stack([left, np.cross(up, left), up], axis=-1)


def clamp_turn(rel: np.ndarray, yaw_deg: float = YAW_LIMIT_DEG, tilt_deg: float = TILT_LIMIT_DEG) -> np.ndarray:
    """Rotations [..., 4] relative to the chest, split into a yaw about up (twist) and the rest (swing),
    each clamped to its limit."""
    yaw = Q.twist_angle_wrapped(rel, _UP)
    twist = Q.from_axis_angle(_UP, yaw)
    swing = Q.mul(rel, Q.conj(twist))
    swing = keyed.clamp_angle(swing, np.radians(tilt_deg))
    return Q.mul(swing, Q.from_axis_angle(_UP, np.clip(yaw, -np.radians(yaw_deg), np.radians(yaw_deg))))


def head_rotations(
    lm_world: np.ndarray, ok: np.ndarray, chest: np.ndarray, rows: np.ndarray, fps: float
) -> dict[str, np.ndarray]:
    """{"neck", "head"}: world rotations [T, 4] from the face on key-frames (landmarks [K, 33, 3] in the
    motion's world, `ok` [K] usable) and the chest segment's world rotations [T, 4]."""
    T = len(chest)
    rows = np.asarray(rows, np.int64)
    with np.errstate(invalid="ignore"):
        face = Q.from_matrix(np.where(ok[:, None, None], face_frame(lm_world), np.eye(3)))
    rel = clamp_turn(Q.mul(Q.conj(chest[rows]), face))
    rel_t = keyed.per_frame(rel, ok, rows, T, fps)
    neck = keyed.slerp(np.broadcast_to(keyed.IDENTITY, rel_t.shape), rel_t, NECK_SHARE)
    return {
        "neck": Q.make_continuous(Q.normalize(Q.mul(chest, neck))),
        "head": Q.make_continuous(Q.normalize(Q.mul(chest, rel_t))),
    }
