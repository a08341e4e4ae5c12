"""Foot pitch from MediaPipe's heel and toe landmarks, kept consistent with the floor and planted feet.

Pure numpy. The 17 lifted joints end at the ankles, so a foot bone could only stay level (turned with its
shin's heading: `segments.FOOT_SEGMENTS`). MediaPipe's pose model marks each heel and toe tip (foot
index): the heel -> toe line gives the foot's pitch. Why it is built this way:
- The heel -> toe line is measured in the motion's world (`landmarks.to_world`), turned by the rotation
  that takes MediaPipe's shin onto the motion's (the ankle angle is what MediaPipe sees; the shin is
  the lifter's, already grounded and foot-locked).
- MediaPipe's heel point sits higher on the heel than its toe point on the toes: the line pitches down
  on a flat foot. The median pitch on key-frames where the foot is on the floor (planted in
  `Motion.contacts`, or the ankle within NEAR_FLOOR of standing height) is that offset and is taken off
  (with at least 3 such key-frames; nothing is taken off otherwise).
- Planted feet are flat (faded in and out like the foot lock), and every frame's pitch is kept inside
  what the ankle's height allows: the toe tip and the heel never go under the floor (Z = 0) for a sole
  that is flat at `ankle_height` when standing (toe tip TOE_SHINS, heel HEEL_SHINS shin lengths from the
  ankle). So a foot rolls heel-to-toe only as far as the lifted ankle rises (heel strike, push-off).
"""

from __future__ import annotations

import numpy as np

from . import keyed
from . import landmarks as L
from . import quat as Q
from .skeleton import INDEX

# The sole, in shin lengths: toe tip in front of the ankle, heel behind it (an adult foot is ~0.6 shins long;
# MediaPipe's heel and foot-index points lie inside the foot, so its own heel -> toe length is too short).
TOE_SHINS, HEEL_SHINS = 0.45, 0.12
BALL_SHINS = 0.33  # the ball of the foot (where the toes bend), in front of the ankle
TOES_DOWN = (0.03, 0.08)  # m: a ball of the foot this close to the floor keeps the toes on it (fading out)
NEAR_FLOOR = 0.02  # m above standing height: an ankle this low is on the floor (calibration, with contacts)
CONTACT_FADE_S = 0.12  # planted feet are flattened with the same fade as the foot lock
_X, _Z = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])


def pitch_limits(ankle_z: np.ndarray, ankle_height: float, toe: float, heel: float) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest pitch [T] (rad, + = toe up) for which the toe tip (`toe` m in front of the
    ankle) and the heel (`heel` m behind it), both `ankle_height` below it when flat, stay above Z = 0."""
    z = np.maximum(np.asarray(ankle_z, np.float64), 0.0)
    r_t, r_h = np.hypot(toe, ankle_height), np.hypot(heel, ankle_height)
    lo = np.arctan2(ankle_height, toe) - np.arcsin(np.clip(z / r_t, 0.0, 1.0))
    hi = np.arcsin(np.clip(z / r_h, 0.0, 1.0)) - np.arctan2(ankle_height, heel)
    lo, hi = np.where(z >= r_t, -np.pi / 2, lo), np.where(z >= r_h, np.pi / 2, hi)
    return np.minimum(lo, 0.0), np.maximum(hi, 0.0)  # under standing height: flat rather than nothing


def _shin(joints: np.ndarray, side: str) -> float:
    """Median knee -> ankle length (m): the unit the sole is measured in."""
    return float(np.median(np.linalg.norm(joints[:, INDEX[f"{side}Ankle"]] - joints[:, INDEX[f"{side}Knee"]], axis=-1)))


def _fade(mask: np.ndarray, fps: float) -> np.ndarray:
    """0/1 mask [T] -> weights ramping over CONTACT_FADE_S on each side of a change."""
    m = np.asarray(mask, np.float64)
    n = max(1, int(round(CONTACT_FADE_S * fps)))
    k = np.ones(2 * n + 1) / (2 * n + 1)
    return np.clip(np.convolve(np.pad(m, n, mode="edge"), k, mode="valid"), 0.0, 1.0)


def foot_pitch(
    lm_world: np.ndarray,
    usable: dict[str, np.ndarray],
    joints: np.ndarray,
    contacts: np.ndarray,
    rows: np.ndarray,
    fps: float,
    ankle_height: float,
) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """Pitch [T, 2] (rad, + = toe up; left, right) and the sole lengths used {"L": (toe, heel) m, ...}, from
    landmarks [K, 33, 3] in the motion's world (`usable[side]` [K]: key-frames where that foot is usable)."""
    rows = np.asarray(rows, np.int64)
    T = len(joints)
    out = np.zeros((T, 2))
    lengths: dict[str, tuple[float, float]] = {}
    for s, side in enumerate(("L", "R")):
        ok = usable[side]
        ankle_i, heel_i, toe_i = L.FOOT[side]
        d = lm_world[:, toe_i] - lm_world[:, heel_i]
        mp_shin = lm_world[:, ankle_i] - lm_world[:, L.KNEE[side]]
        shin = joints[rows, INDEX[f"{side}Ankle"]] - joints[rows, INDEX[f"{side}Knee"]]
        with np.errstate(invalid="ignore"):
            d = Q.rotate(Q.between(np.where(ok[:, None], mp_shin, shin), shin), np.where(ok[:, None], d, _X))
        pitch = np.arctan2(d[:, 2], np.linalg.norm(d[:, :2], axis=-1))
        low = joints[rows, INDEX[f"{side}Ankle"], 2] < ankle_height + NEAR_FLOOR
        planted = ok & (np.asarray(contacts, bool)[rows, s] | low)
        if planted.sum() >= 3:
            pitch = pitch - np.median(pitch[planted])
        toe, heel = TOE_SHINS * _shin(joints, side), HEEL_SHINS * _shin(joints, side)
        lengths[side] = (toe, heel)
        q = keyed.per_frame(Q.from_axis_angle(_X, pitch), ok, rows, T, fps)
        p = Q.twist_angle_wrapped(q, _X)
        p = p * (1.0 - _fade(np.asarray(contacts, bool)[:, s], fps))
        lo, hi = pitch_limits(joints[:, INDEX[f"{side}Ankle"], 2], ankle_height, toe, heel)
        out[:, s] = np.clip(p, lo, hi)
    return out, lengths


def toe_bend(pitch: np.ndarray, joints: np.ndarray, ankle_height: float) -> np.ndarray:
    """Toe bend [T, 2] (rad, + = toes up relative to the foot): while the heel is up (pitch < 0) and the ball
    of the foot is on the floor, the toes stay level (push-off); in the air they follow the foot."""
    out = np.zeros_like(pitch)
    for s, side in enumerate(("L", "R")):
        ank = joints[:, INDEX[f"{side}Ankle"]]
        ball = BALL_SHINS * _shin(joints, side)
        p = pitch[:, s]
        z = ank[:, 2] + ball * np.sin(p) - ankle_height * np.cos(p)
        w = np.clip((TOES_DOWN[1] - z) / (TOES_DOWN[1] - TOES_DOWN[0]), 0.0, 1.0)
        out[:, s] = -np.minimum(p, 0.0) * w * w * (3 - 2 * w)
    return out


def foot_rotations(
    pitch: np.ndarray, shins: dict[str, np.ndarray], bend: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """{"foot.L", "foot.R"} (and "toe.L/R" given the toe bend [T, 2]): world rotations [T, 4] from the rest
    foot (level, toes to -Y): the shin's heading (its turn about up), then the pitch about the foot's own
    left-right axis (for the toes: the pitch plus their bend)."""
    out = {}
    for s, side in enumerate(("L", "R")):
        heading = Q.from_axis_angle(_Z, Q.twist_angle_wrapped(shins[f"shin.{side}"], _Z))
        out[f"foot.{side}"] = Q.make_continuous(Q.mul(heading, Q.from_axis_angle(_X, -pitch[:, s])))
        if bend is not None:
            toe = Q.from_axis_angle(_X, -(pitch[:, s] + bend[:, s]))
            out[f"toe.{side}"] = Q.make_continuous(Q.mul(heading, toe))
    return out


def default_foot(ankle: np.ndarray, shin_length: float, ankle_height: float) -> tuple[np.ndarray, ...]:
    """Head, tail of a default foot bone (from the ankle forward, -Y, to the ball of the foot just above the
    floor) and the tail of its toe bone (to the toe tip), for a T-pose armature standing on Z = 0."""
    a = np.asarray(ankle, np.float64)
    ball = a + np.array([0.0, -BALL_SHINS * shin_length, -0.75 * ankle_height])
    return a, ball, ball + np.array([0.0, -(TOE_SHINS - BALL_SHINS) * shin_length, 0.0])
