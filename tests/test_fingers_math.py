"""retarget/fingers.py on synthetic hands (no bpy, no MediaPipe): a known curl, spread and thumb swing come
out on a rig with arbitrary bone rolls, whatever way the captured hand faces; missing hands hold and ease."""

from __future__ import annotations

import numpy as np
import pytest

from retarget import fingers, keyed, quat
from retarget.rigmap import RigRest

BONES = fingers.default_finger_bones(np.zeros(3), fingers.FOREARM_REF, "L")
MIRROR = np.diag([-1.0, 1.0, 1.0])  # left <-> right in Blender world (the character's left is +X)


def _rig(seed: int = 0, side: str = "L") -> RigRest:
    """forearm + the default hand of one side, every bone with a random roll (Y along the bone)."""
    rng = np.random.default_rng(seed)
    names, parents, mats, lengths = [f"forearm.{side}"], [-1], [np.eye(4)], [0.25]
    mats[0][:3, 3] = (-0.25 if side == "L" else 0.25, 0.0, 0.0)
    for name, head, tail, parent in fingers.default_finger_bones(np.zeros(3), fingers.FOREARM_REF, side):
        y = (tail - head) / np.linalg.norm(tail - head)
        x = np.cross(y, rng.normal(size=3))
        x /= np.linalg.norm(x)
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, np.cross(x, y), head
        names.append(name)
        parents.append(names.index(parent) if parent else 0)
        mats.append(m)
        lengths.append(float(np.linalg.norm(tail - head)))
    return RigRest(names, parents, np.array(mats), np.array(lengths))


def _landmarks() -> np.ndarray:
    """The 21 MediaPipe landmarks of the default left hand at rest (wrist at the origin)."""
    ends = {name: (head, tail) for name, head, tail, _ in BONES}
    p = np.zeros((21, 3))
    for finger, chain in fingers.CHAINS.items():
        for k in range(3):
            head, tail = ends[fingers.segment(finger, k + 1, "L")]
            p[chain[k]], p[chain[k + 1]] = head, tail
    return p


def _rotate_about(p: np.ndarray, idx: list[int], centre: int, axis: np.ndarray, deg: float) -> np.ndarray:
    q = quat.from_axis_angle(np.asarray(axis, float), np.radians(deg))
    out = p.copy()
    out[idx] = quat.rotate(np.broadcast_to(q, (len(idx), 4)), p[idx] - p[centre]) + p[centre]
    return out


def _posed_dirs(rig: RigRest, rot: dict[str, np.ndarray], t: int) -> dict[str, np.ndarray]:
    """World direction of every bone with the local rotations at frame t (forearm and hand at rest)."""
    g = rig.rest_world_rotations()
    posed: list[np.ndarray] = []
    for i, name in enumerate(rig.names):
        local = quat.to_matrix(rot[name][t]) if name in rot else np.eye(3)
        p = rig.parents[i]
        posed.append((g[i] if p < 0 else posed[p] @ g[p].T @ g[i]) @ local)
    return {n: posed[i][:, 1] for i, n in enumerate(rig.names)}


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


@pytest.mark.parametrize("side", ["L", "R"])
def test_curl_spread_and_thumb_reach_the_rig_whatever_the_hand_faces(side: str) -> None:
    rig = _rig(0, side)
    bonemap = {s: s for s in fingers.FINGER_SEGMENTS if s.endswith(f".{side}")}
    rest = _landmarks()
    pose = _rotate_about(rest, [7, 8], 6, (0, 1, 0), 60.0)  # index middle joint: 60 deg towards the palm (-Z)
    pose = _rotate_about(pose, [14, 15, 16], 13, (0, 0, 1), -15.0)  # ring spread away from the middle
    pose = _rotate_about(pose, [2, 3, 4], 1, (1, 0, 0), 40.0)  # thumb swings across, under the palm
    if side == "R":
        pose = pose @ MIRROR  # the mirror image: a right hand doing the same
    turn = quat.from_axis_angle(np.array([0.3, -0.8, 0.5]), 1.9)  # the captured hand faces anywhere
    seen = quat.rotate(np.broadcast_to(turn, (21, 4)), pose) + np.array([0.1, -0.2, 0.4])
    hands3d = np.full((3, 2, 21, 3), np.nan)
    s = 0 if side == "L" else 1
    hands3d[:, s] = seen
    out = fingers.finger_rotations(rig, bonemap, hands3d, np.array([0, 1, 2]), fps=30.0)
    assert out.found[:, s].all() and not out.found[:, 1 - s].any()
    assert set(out.rotations) == set(bonemap)
    got = _posed_dirs(rig, out.rotations, 1)
    for finger, chain in fingers.CHAINS.items():
        for k in range(3):
            want = pose[chain[k + 1]] - pose[chain[k]]
            assert _angle(got[fingers.segment(finger, k + 1, side)], want) < 2.0, (finger, k)
    assert abs(out.curl[f"index.02.{side}"][1] - 60.0) < 2.0 and abs(out.curl[f"middle.02.{side}"][1]) < 2.0
    assert out.rest_bones == []  # the default hand has no palm bones between hand and fingers


def test_missing_hand_holds_then_eases_to_rest_and_slerps_between_keys() -> None:
    rig = _rig(1)
    bonemap = {s: s for s in fingers.FINGER_SEGMENTS if s.endswith(".L")}
    curled = _rotate_about(_landmarks(), [6, 7, 8], 5, (0, 1, 0), 50.0)  # index knuckle curled 50 deg
    T, keys = 121, np.arange(0, 121, 10)  # 30 fps, a key-frame every 10 frames
    hands3d = np.full((T, 2, 21, 3), np.nan)
    hands3d[keys[:3], 0] = curled  # seen on key-frames 0, 10, 20
    hands3d[40, 0] = curled  # missed on 30 only (held), seen on 40, then lost for 2.7 s
    rot = fingers.finger_rotations(rig, bonemap, hands3d, keys, fps=30.0).rotations["index.01.L"]
    ang = np.degrees(2 * np.arccos(np.clip(np.abs(rot[:, 0]), 0, 1)))
    assert abs(ang[30] - 50.0) < 1.0 and abs(ang[35] - 50.0) < 1.0  # one missed key-frame: held
    assert abs(ang[60] - 50.0) < 1.0  # lost for 0.67 s (< 1 s): still held
    assert ang[120] < 1.0  # lost for 2.7 s: back at rest
    assert np.all(np.abs(np.diff(ang)) < 8.0)  # slerped, no jumps between key-frames
    assert ang[90] < ang[80] < ang[70]  # easing back, monotonically


def test_slerp_keys_interpolates_on_the_sphere() -> None:
    a = np.array([1.0, 0.0, 0.0, 0.0])
    b = quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.radians(90.0))
    q = keyed.slerp_keys(np.array([0, 10]), np.stack([a, -b]), 11)  # -b: the same rotation, other sign
    ang = np.degrees(2 * np.arccos(np.clip(np.abs(q[:, 0]), 0, 1)))
    np.testing.assert_allclose(ang, np.linspace(0, 90, 11), atol=1e-6)
