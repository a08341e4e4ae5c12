"""Wrists and forearm roll from MediaPipe's pose hand landmarks (wrist, index and pinky knuckles, thumb).

Pure numpy. The 17 lifted joints end at the wrists: the forearm's roll is only its elbow hinge's and the
hand has no rotation at all. MediaPipe's pose model marks four points of each hand, enough for a hand
frame: along = wrist -> mid-knuckles, across = pinky -> index (made orthogonal). Why it is built this way:
- The hand is measured in the motion's world (`landmarks.to_world`), then turned by the small rotation
  that takes MediaPipe's forearm (elbow -> wrist) onto the motion's, so a forearm that MediaPipe and the
  lifter see a few degrees apart does not bend the wrist.
- Relative to the motion's forearm, the hand's rotation is split into a twist about the forearm axis
  (pronation / supination: the forearm's roll, clamped to +-ROLL_LIMIT_DEG) and the remaining swing (the
  wrist's bend, at most SWING_LIMIT_DEG). The roll goes onto the forearm bone, the swing onto the hand.
- In the rest pose (T-pose, palms down) the thumb side faces the front (-Y): that is the identity.
"""

from __future__ import annotations

import numpy as np

from . import keyed
from . import landmarks as L
from . import quat as Q
from .segments import SEGMENTS
from .skeleton import INDEX

ROLL_LIMIT_DEG = 120.0
SWING_LIMIT_DEG = 80.0
_FRONT = np.array([0.0, -1.0, 0.0])


def hand_frame(wrist: np.ndarray, index: np.ndarray, pinky: np.ndarray) -> np.ndarray:
    """[..., 3, 3] columns (along, across, along x across) of a hand from three landmarks [..., 3]."""
    along = Q.normalize(0.5 * (index + pinky) - wrist)
    across = index - pinky
    across = Q.normalize(across - np.sum(across * along, axis=-1, keepdims=True) * along)
    return np.stack([along, across, np.cross(along, across)], axis=-1)


def rest_hand_frame(side: str) -> np.ndarray:
    axis = np.asarray(SEGMENTS[f"forearm.{side}"].rest_dir, float)
    return np.stack([axis, _FRONT, np.cross(axis, _FRONT)], axis=-1)


def split_roll(local: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hand rotations relative to the forearm [..., 4] -> (clamped roll angle about the forearm axis [...]
    (rad), clamped swing [..., 4]) with local = twist(roll) * swing when nothing was clamped."""
    roll = Q.twist_angle_wrapped(local, axis)
    twist = Q.from_axis_angle(axis, roll)
    swing = keyed.clamp_angle(Q.mul(Q.conj(twist), local), np.radians(SWING_LIMIT_DEG))
    lim_r = np.radians(ROLL_LIMIT_DEG)
    return np.clip(roll, -lim_r, lim_r), swing


def wrist_rotations(
    lm_world: np.ndarray,
    usable: dict[str, np.ndarray],
    joints: np.ndarray,
    forearms: dict[str, np.ndarray],
    rows: np.ndarray,
    fps: float,
) -> dict[str, np.ndarray]:
    """{"forearm.L", "hand.L", ...}: world rotations [T, 4]: the motion's forearm (`forearms[side]` [T, 4])
    with the roll added, and the hand, from landmarks [K, 33, 3] in the motion's world (`usable[side]` [K]:
    key-frames where that hand is usable)."""
    rows = np.asarray(rows, np.int64)
    out: dict[str, np.ndarray] = {}
    for side in ("L", "R"):
        ok = usable[side]
        fore = forearms[f"forearm.{side}"]
        T = len(fore)
        wrist, index, pinky, _thumb = (lm_world[:, i] for i in L.HAND[side])
        elbow = lm_world[:, L.ELBOW[side]]
        ours = joints[rows, INDEX[f"{side}Wrist"]] - joints[rows, INDEX[f"{side}Elbow"]]
        with np.errstate(invalid="ignore"):
            seen = Q.from_matrix(np.where(ok[:, None, None], hand_frame(wrist, index, pinky), np.eye(3)))
            corr = Q.between(np.where(ok[:, None], wrist - elbow, ours), ours)
        hand = Q.mul(corr, Q.mul(seen, Q.conj(Q.from_matrix(rest_hand_frame(side)))))
        local = keyed.per_frame(Q.mul(Q.conj(fore[rows]), hand), ok, rows, T, fps)
        axis = np.asarray(SEGMENTS[f"forearm.{side}"].rest_dir, float)
        roll, swing = split_roll(local, axis)
        rolled = Q.mul(fore, Q.from_axis_angle(axis, roll))
        out[f"forearm.{side}"] = Q.make_continuous(Q.normalize(rolled))
        out[f"hand.{side}"] = Q.make_continuous(Q.normalize(Q.mul(rolled, swing)))
    return out
