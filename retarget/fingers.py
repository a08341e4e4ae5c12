"""Fingers: MediaPipe's 21 hand landmarks per hand -> local rotations of a rig's finger bones.

Pure numpy (runs inside Blender). Why it is built this way:
- Everything is measured relative to the hand, so it does not matter how the wrist is driven (or not):
  a hand frame is built the same way from the capture's landmarks and from the rig's rest bones
  (e1 = wrist -> middle knuckle, e2 = pinky knuckle -> index knuckle made orthogonal, e3 = e1 x e2).
- Per finger, three bones (thumb: metacarpal, proximal, distal; other fingers: the three phalanges).
  The first bone swings the shortest way from the rig's rest direction onto the captured one: that is
  the knuckle's curl and spread (for the thumb, opposition: it swings across the palm). The next two
  are hinges: a signed curl about the parent's bend axis, clamped to what a finger can do, so landmark
  depth noise never bends a finger sideways.
- A rig with curled or spread rest fingers keeps working: its own rest directions are the start of
  each swing, measured in its own hand frame.
- Hands are seen on key-frames only: rotations are computed there, a hand not found on a key-frame
  holds its last pose (`hold_s`) and then blends back to the rest pose (`blend_s`), and the frames in
  between are filled by slerp (never by interpolating angles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import keyed
from . import quat as Q
from .rigmap import RigRest

FINGERS = ("thumb", "index", "middle", "ring", "pinky")
SIDES = ("L", "R")  # hands3d[:, 0] is the person's left hand
CHAINS = {"thumb": (1, 2, 3, 4), "index": (5, 6, 7, 8), "middle": (9, 10, 11, 12), "ring": (13, 14, 15, 16)}
CHAINS["pinky"] = (17, 18, 19, 20)
FINGER_SEGMENTS: tuple[str, ...] = tuple(f"{f}.{k:02d}.{s}" for s in SIDES for f in FINGERS for k in (1, 2, 3))
CURL_LIMITS = (-25.0, 115.0)  # degrees a hinge joint may bend (back, towards the palm)


def segment(finger: str, k: int, side: str) -> str:
    return f"{finger}.{k:02d}.{side}"


def hand_frame(wrist: np.ndarray, middle: np.ndarray, index: np.ndarray, pinky: np.ndarray) -> np.ndarray:
    """[..., 3, 3] columns e1, e2, e3 (see module doc) from the wrist and three knuckles [..., 3]."""
    e1 = Q.normalize(middle - wrist)
    side = index - pinky
    e2 = Q.normalize(side - np.sum(side * e1, axis=-1, keepdims=True) * e1)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


@dataclass
class FingerPose:
    """Local rotations per finger bone [T, 4] (w, x, y, z), the unmapped bones between them and the hand
    (keyed at rest: the rotations assume it), which key-frames saw each hand, and the curl per joint."""

    rotations: dict[str, np.ndarray]
    rest_bones: list[str] = field(default_factory=list)
    found: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), bool))  # [K, 2]
    curl: dict[str, np.ndarray] = field(default_factory=dict)  # segment -> [K] degrees (found key-frames)


def _rig_hand(rig: RigRest, bonemap: Mapping[str, str | Sequence[str]], side: str) -> tuple[int, np.ndarray] | None:
    """(hand bone, rest hand frame [3, 3] in world) of one side, from the mapped finger bones' heads."""
    heads = rig.heads_world()

    def head(f: str) -> np.ndarray | None:
        b = bonemap.get(segment(f, 1, side))
        return None if b is None else heads[rig.index(b if isinstance(b, str) else b[0])]

    firsts = [rig.index(_bone(bonemap[segment(f, 1, side)])) for f in FINGERS if segment(f, 1, side) in bonemap]
    if len(firsts) < 2:
        return None
    hand = _common_ancestor(rig, firsts)
    if hand is None:
        return None
    along = next((h for h in (head("middle"), head("index"), head("ring")) if h is not None), None)
    pairs = [("index", "pinky"), ("index", "ring"), ("middle", "pinky"), ("index", "middle")]
    across = next(((head(a), head(b)) for a, b in pairs if head(a) is not None and head(b) is not None), None)
    if along is None or across is None:
        return None
    return hand, hand_frame(heads[hand], along, across[0], across[1])


def _bone(v: str | Sequence[str]) -> str:
    return v if isinstance(v, str) else v[0]


def _common_ancestor(rig: RigRest, bones: list[int]) -> int | None:
    def up(i: int) -> list[int]:
        out = []
        j = rig.parents[i]
        while j >= 0:
            out.append(j)
            j = rig.parents[j]
        return out

    first = up(bones[0])
    return next((a for a in first if all(a in up(b) for b in bones[1:])), None)


def _flat_hand() -> np.ndarray:
    """21 landmarks of a flat hand with straight fingers along e1 (the rest pose of the hand frame)."""
    p = np.zeros((21, 3))
    for i, chain in enumerate(CHAINS.values()):
        for k, j in enumerate(chain):
            p[j] = (1.0 + k, 2.0 - i, 0.0)
    return p


_FLAT = _flat_hand()


def _capture_dirs(hands3d: np.ndarray, side: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Captured phalanx directions in the captured hand frame {segment: [K, 3]} and which rows are finite."""
    p = np.asarray(hands3d[:, side], dtype=np.float64).copy()  # [K, 21, 3]
    ok = np.isfinite(p).all(axis=(1, 2))
    p[~ok] = _FLAT  # a flat hand where none was found: finite, and replaced by the hold / blend later
    f = hand_frame(p[:, 0], p[:, 9], p[:, 5], p[:, 17])
    out = {}
    for finger, chain in CHAINS.items():
        for k in range(3):
            d = _unit(p[:, chain[k + 1]] - p[:, chain[k]])
            out[segment(finger, k + 1, SIDES[side])] = np.einsum("kji,kj->ki", f, d)
    return out, ok


def _finger_local(
    rest_dirs: list[np.ndarray], dirs: list[np.ndarray], flex_sign: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Hand-relative rotations [K, 4] of one finger's bones (rest -> posed, in hand-frame axes) and the
    curl of each joint [K] (degrees). rest_dirs: the rig's unit rest directions in its hand frame."""
    K = len(dirs[0])
    normal = np.array([0.0, 0.0, 1.0])
    s = Q.between(np.broadcast_to(rest_dirs[0], (K, 3)), dirs[0])
    rots, curls = [s], [_curl(rest_dirs[0], dirs[0], flex_sign)]
    lo, hi = np.radians(CURL_LIMITS)
    for k in (1, 2):
        axis = Q.rotate(s, np.broadcast_to(flex_sign * _unit(np.cross(rest_dirs[k - 1], normal)), (K, 3)))
        cur = Q.rotate(s, np.broadcast_to(rest_dirs[k], (K, 3)))
        want = dirs[k] - np.sum(dirs[k] * axis, axis=-1, keepdims=True) * axis
        ang = np.arctan2(np.sum(np.cross(cur, want) * axis, axis=-1), np.sum(cur * want, axis=-1))
        ang = np.clip(ang, lo, hi)
        s = Q.mul(Q.from_axis_angle(axis, ang), s)
        rots.append(s)
        curls.append(np.degrees(ang))
    return rots, curls


def _curl(rest: np.ndarray, d: np.ndarray, flex_sign: float) -> np.ndarray:
    """Knuckle curl (degrees): how far d leans out of the palm plane towards the palm (flex_sign * e3)."""
    return np.degrees(np.arctan2(flex_sign * d[:, 2], np.linalg.norm(d[:, :2], axis=-1)))


def finger_rotations(
    rig: RigRest,
    bonemap: Mapping[str, str | Sequence[str]],
    hands3d: np.ndarray,
    keyframes: np.ndarray,
    fps: float,
    *,
    hold_s: float = 1.0,
    blend_s: float = 1.0,
) -> FingerPose:
    """Rotations of the rig's mapped finger bones for hand landmarks hands3d [T, 2, 21, 3] (left, right;
    NaN where not found) seen on `keyframes` (rows of T). A side with no mapped fingers, no usable hand
    frame on the rig or no hand found on any key-frame is left out (its fingers stay at rest)."""
    h = np.asarray(hands3d, dtype=np.float64)
    T = h.shape[0]
    rows = np.asarray(keyframes, np.int64)
    rows = rows[(rows >= 0) & (rows < T)]
    g_rest = rig.rest_world_rotations()
    heads, tails = rig.heads_world(), rig.tails_world()
    out = FingerPose({}, [], np.zeros((len(rows), 2), bool), {})
    for s, side in enumerate(SIDES):
        rig_hand = _rig_hand(rig, bonemap, side)
        dirs, ok = _capture_dirs(h[rows], s)
        out.found[:, s] = ok
        if rig_hand is None or not ok.any():
            continue
        hand, frame = rig_hand
        q_frame = Q.from_matrix(frame)
        flex = 1.0 if side == "L" else -1.0  # e3 points out of the left palm and out of the right back
        world_delta: dict[int, np.ndarray] = {}  # bone -> [K, 4] rest -> posed, world axes, hand-relative
        for finger in FINGERS:
            segs = [segment(finger, k, side) for k in (1, 2, 3)]
            if not all(sg in bonemap for sg in segs):
                continue
            bones = [rig.index(_bone(bonemap[sg])) for sg in segs]
            rest = [_unit(frame.T @ (tails[b] - heads[b])) for b in bones]
            rots, curls = _finger_local(rest, [dirs[sg] for sg in segs], flex)
            for sg, b, r, c in zip(segs, bones, rots, curls):
                world_delta[b] = Q.mul(Q.mul(q_frame, r), Q.conj(q_frame))
                out.curl[sg] = c[ok]
        times = rows / float(fps)
        for b, w in world_delta.items():
            p = rig.parents[b]
            wp = world_delta.get(p, np.array([1.0, 0.0, 0.0, 0.0]))
            g = Q.from_matrix(g_rest[b])
            local = Q.mul(Q.mul(Q.conj(g), Q.mul(Q.conj(wp), w)), g)  # L = G^T W_p^T W_b G
            local = Q.make_continuous(Q.normalize(local))
            out.rotations[rig.names[b]] = keyed.slerp_keys(
                rows, keyed.fill_missing(local, ok, times, hold_s, blend_s), T
            )
        for b in world_delta:  # unmapped bones between a finger and the hand (Rigify's palm.0x): at rest
            j = rig.parents[b]
            while j >= 0 and j != hand and j not in world_delta:
                if rig.names[j] not in out.rest_bones:
                    out.rest_bones.append(rig.names[j])
                j = rig.parents[j]
    return out


# ---------------------------------------------------------------- finger bones of the default armature

# An adult hand, metres, relative to the wrist of a hand in the T-pose: (along the arm, towards the thumb
# side = the character's front, up). Knuckle (MCP / thumb CMC) positions and phalanx lengths; scaled to
# the armature's forearm (FOREARM_REF long).
FOREARM_REF = 0.25
HAND_BONE = 0.08  # length of the hand bone the fingers hang from
_KNUCKLE = {
    "thumb": (0.025, 0.025, -0.01),
    "index": (0.095, 0.030, 0.0),
    "middle": (0.097, 0.010, 0.0),
    "ring": (0.092, -0.010, 0.0),
    "pinky": (0.085, -0.028, 0.0),
}
_PHALANX = {
    "thumb": (0.040, 0.032, 0.027),
    "index": (0.040, 0.025, 0.020),
    "middle": (0.045, 0.028, 0.022),
    "ring": (0.042, 0.027, 0.021),
    "pinky": (0.032, 0.020, 0.018),
}
_THUMB_DIR = (0.75, 0.6, -0.28)


def default_finger_bones(
    wrist: np.ndarray, forearm_length: float, side: str
) -> list[tuple[str, np.ndarray, np.ndarray, str | None]]:
    """(name, head, tail, parent) of a hand bone `hand.<side>` and its 15 finger bones (named after the
    finger segments) for a T-pose armature (Blender world: left hand along +X, front = -Y, up = +Z)."""
    s = float(forearm_length) / FOREARM_REF
    out_x = 1.0 if side == "L" else -1.0

    def world(v: Sequence[float]) -> np.ndarray:  # (along, front, up) -> world offset
        return s * np.array([out_x * v[0], -v[1], v[2]])

    w = np.asarray(wrist, dtype=np.float64)
    hand = f"hand.{side}"
    bones: list[tuple[str, np.ndarray, np.ndarray, str | None]] = [(hand, w, w + world((HAND_BONE, 0, 0)), None)]
    for finger in FINGERS:
        d = np.asarray(_THUMB_DIR if finger == "thumb" else (1.0, 0.0, 0.0))
        d = d / np.linalg.norm(d)
        head, parent = w + world(_KNUCKLE[finger]), hand
        for k, length in enumerate(_PHALANX[finger], start=1):
            tail = head + world(d * length)
            bones.append((segment(finger, k, side), head, tail, parent))
            head, parent = tail, segment(finger, k, side)
    return bones
