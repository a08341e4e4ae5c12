"""Synthetic MediaPipe pose landmarks (33 points) for a standing body with a known head turn, hand roll and
foot pitch, seen in a MediaPipe-like frame with its own axes (y down, a tilt, optionally left-handed)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from retarget import landmarks as L
from retarget import quat as Q
from retarget.segments import rest_skeleton, world_rotations
from retarget.skeleton import INDEX
from retarget.wrists import rest_hand_frame

LENGTHS = np.array([0, 0.13, 0.45, 0.44, 0.13, 0.45, 0.44, 0.23, 0.25, 0.12, 0.12, 0.15, 0.28, 0.25, 0.15, 0.28, 0.25])
ANKLE_H = 0.08
# Face points in the head's frame (left, back, up), metres from the Neck/Nose joint.
FACE = {L.NOSE: (0, -0.11, 0.02), L.L_EYE: (0.032, -0.09, 0.05), L.R_EYE: (-0.032, -0.09, 0.05)}
FACE |= {L.L_EAR: (0.075, 0.0, 0.04), L.R_EAR: (-0.075, 0.0, 0.04), L.MOUTH_L: (0.025, -0.095, -0.01)}
FACE |= {L.MOUTH_R: (-0.025, -0.095, -0.01)}
HAND = {1: (0.09, 0.028, 0.0), 2: (0.08, -0.028, 0.0), 3: (0.04, 0.045, -0.02)}  # index, pinky, thumb
HEEL, TOE = (0.0, 0.06, -0.05), (0.0, -0.19, -0.075)  # MediaPipe's heel point sits higher than its toe tip


def standing(T: int, fps: float = 30.0, ankle_z: np.ndarray | None = None) -> SimpleNamespace:
    """A Motion-like standing body: joints [T,17,3] on the floor, rotations, contacts (both planted unless
    ankle_z [T] lifts the left ankle), floor.ankle_height."""
    j = rest_skeleton(LENGTHS)
    j = np.repeat((j - [0, 0, j[:, 2].min() - ANKLE_H])[None], T, axis=0)
    for side in ("L", "R"):  # arms bent at the elbow, forearms forward: a real bend plane
        e = j[:, INDEX[f"{side}Elbow"]]
        j[:, INDEX[f"{side}Wrist"]] = e + [0.0, -LENGTHS[INDEX[f"{side}Wrist"]], 0.0]
    contacts = np.ones((T, 2), bool)
    if ankle_z is not None:
        lift = np.asarray(ankle_z) - ANKLE_H
        for n in ("LKnee", "LAnkle"):
            j[:, INDEX[n], 2] += lift
        contacts[:, 0] = lift < 0.01
    return SimpleNamespace(
        joints=j,
        rotations=world_rotations(j),
        contacts=contacts,
        fps=fps,
        floor=SimpleNamespace(ankle_height=ANKLE_H),
    )


def mp_axes(tilt_deg: float = 12.0, left_handed: bool = False) -> np.ndarray:
    """World -> MediaPipe-like coordinates: x right of a camera looking along +Y, y down, z away, tilted."""
    a = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # x, -z, y: y down, z forward
    t = np.radians(tilt_deg)
    tilt = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    m = tilt @ a
    return m @ np.diag([1.0, 1.0, -1.0]) if left_handed else m


def world33(
    m: SimpleNamespace,
    rows: np.ndarray,
    head_rel: np.ndarray | None = None,
    hand_rel: np.ndarray | None = None,
    foot_pitch: np.ndarray | None = None,
    axes: np.ndarray | None = None,
) -> np.ndarray:
    """[K, 33, 3] landmarks on key rows: head turned by head_rel [T,4] from the chest, both hands by
    hand_rel [T,4] from their forearms, the left foot pitched by foot_pitch [T] rad (+ = toe up)."""
    T = len(m.joints)
    ident = np.tile([1.0, 0, 0, 0], (T, 1))
    head_rel = ident if head_rel is None else head_rel
    hand_rel = ident if hand_rel is None else hand_rel
    j, r = m.joints, m.rotations
    p = np.zeros((T, 33, 3))
    sh = {"L": "LShoulder", "R": "RShoulder"}
    for i, n in ((L.L_HIP, "LHip"), (L.R_HIP, "RHip"), (L.L_SHOULDER, sh["L"]), (L.R_SHOULDER, sh["R"])):
        p[:, i] = j[:, INDEX[n]]
    for i, n in ((L.L_ELBOW, "LElbow"), (L.R_ELBOW, "RElbow"), (L.L_KNEE, "LKnee"), (L.R_KNEE, "RKnee")):
        p[:, i] = j[:, INDEX[n]]
    q_head = Q.mul(r["chest"], head_rel)
    for i, off in FACE.items():
        p[:, i] = j[:, INDEX["Neck"]] + Q.rotate(q_head, np.broadcast_to(np.asarray(off, float), (T, 3)))
    for side in ("L", "R"):
        w = j[:, INDEX[f"{side}Wrist"]]
        q_hand = Q.mul(r[f"forearm.{side}"], hand_rel)
        wi, ii, pi, ti = L.HAND[side]
        p[:, wi] = w
        for k, i in ((1, ii), (2, pi), (3, ti)):
            p[:, i] = w + Q.rotate(q_hand, np.broadcast_to(rest_hand_frame(side) @ np.asarray(HAND[k]), (T, 3)))
        a, h, t = L.FOOT[side]
        ank = j[:, INDEX[f"{side}Ankle"]]
        pitch = foot_pitch if (side == "L" and foot_pitch is not None) else np.zeros(T)
        q_foot = Q.from_axis_angle(np.array([1.0, 0, 0]), -pitch)
        p[:, a] = ank
        p[:, h] = ank + Q.rotate(q_foot, np.broadcast_to(np.asarray(HEEL), (T, 3)))
        p[:, t] = ank + Q.rotate(q_foot, np.broadcast_to(np.asarray(TOE), (T, 3)))
    p = p[rows] - 0.5 * (p[rows][:, [L.L_HIP]] + p[rows][:, [L.R_HIP]])
    return p @ (mp_axes() if axes is None else axes).T


def yaw(deg: np.ndarray) -> np.ndarray:
    return Q.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.radians(deg))
