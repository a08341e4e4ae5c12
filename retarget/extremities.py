"""Head, wrists and feet from MediaPipe's 33 pose landmarks on key-frames: one entry for the keying.

Pure numpy. `drive` returns world rotations {segment: [T, 4]} in the same convention as
`Motion.rotations` (rest frame -> world at t); the caller overlays them on the motion's own before keying
(`{**motion.rotations, **drive(...)}`): neck/head replace the 17-joint ones, forearms gain their roll,
hands, feet and toes are the derived segments `segments.HAND_SEGMENTS` / `FOOT_SEGMENTS` / `TOE_SEGMENTS`
that rig mapping keys when the rig has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import feet, head, landmarks, wrists

VISIBLE = 0.5  # MediaPipe visibility a part's landmarks need on a key-frame to be used


@dataclass
class Extremities:
    rotations: dict[str, np.ndarray]  # segment -> [T, 4] world rotations to overlay on Motion.rotations
    foot_pitch: np.ndarray | None = None  # [T, 2] rad (+ = toe up), left, right
    sole: dict[str, tuple[float, float]] = field(default_factory=dict)  # (toe tip, heel) from the ankle, m
    seen: int = 0  # key-frames with usable landmarks


def drive(
    motion: object,
    world33: np.ndarray | None,
    keyframes: np.ndarray,
    *,
    hands: str = "wrists",
    head_turn: bool = True,
    foot_pitch: bool = True,
    visibility: np.ndarray | None = None,
) -> Extremities:
    """Rotations for `motion` (a retarget.motion.Motion) from MediaPipe world landmarks [K, 33, 3] seen on
    `keyframes` (rows of the motion). hands: "off" leaves forearms and hands alone; "wrists" and "fingers"
    drive them. visibility [K, 33] (MediaPipe's, `landmarks33[..., 3]`): a part whose points are below
    VISIBLE on a key-frame counts as not seen there (held, then eased to neutral), e.g. the far arm in a
    side view, whose hand MediaPipe only guesses. Nothing (an empty result) without landmarks."""
    if world33 is None or len(np.asarray(keyframes)) == 0:
        return Extremities({})
    rows = np.asarray(keyframes, np.int64)
    T = len(motion.joints)
    keep = (rows >= 0) & (rows < T)
    rows, w33 = rows[keep], np.asarray(world33, np.float64)[keep]
    lm, ok = landmarks.to_world(w33, motion.joints, rows)
    vis = None if visibility is None else np.asarray(visibility, np.float64)[keep]

    def seen(points: tuple[int, ...]) -> np.ndarray:
        if vis is None:
            return ok
        with np.errstate(invalid="ignore"):
            return ok & (vis[:, list(points)].min(axis=1) >= VISIBLE)

    out = Extremities({}, seen=int(ok.sum()))
    if not ok.any():
        return out
    rots = motion.rotations
    if head_turn:
        out.rotations.update(head.head_rotations(lm, seen(landmarks.FACE), rots["chest"], rows, motion.fps))
    if str(hands).lower() != "off":
        hand_ok = {s: seen(landmarks.HAND[s][:3] + (landmarks.ELBOW[s],)) for s in ("L", "R")}
        out.rotations.update(wrists.wrist_rotations(lm, hand_ok, motion.joints, rots, rows, motion.fps))
    if foot_pitch:
        foot_ok = {s: seen(landmarks.FOOT[s] + (landmarks.KNEE[s],)) for s in ("L", "R")}
        pitch, lengths = feet.foot_pitch(
            lm, foot_ok, motion.joints, motion.contacts, rows, motion.fps, motion.floor.ankle_height
        )
        bend = feet.toe_bend(pitch, motion.joints, motion.floor.ankle_height)
        out.rotations.update(feet.foot_rotations(pitch, rots, bend))
        out.foot_pitch, out.sole = pitch, lengths
    return out
