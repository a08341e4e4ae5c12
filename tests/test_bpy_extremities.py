"""Head, wrists and feet keyed through real bpy, on a new armature and on a generated Rigify rig.

A synthetic head turn and forearm roll (tests/landmark_sim.py) are keyed and read back from the posed
bones; the real walking clip (04_sideview frames 90-209, where the woman walks across the lawn; MediaPipe
pose + HandLandmarker at stride 3, one capture shared by the module) drives the head, the feet and the
hands OFF / WRISTS / FINGERS contract through the operator.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

bpy = pytest.importorskip("bpy")
import landmark_sim as S  # noqa: E402
from bpy_helpers import bone_quats  # noqa: E402

from retarget import bonemap, bpy_keys, extremities, rigmap  # noqa: E402
from retarget import quat as Q  # noqa: E402
from retarget.segments import rest_directions  # noqa: E402

CLIP = "04_sideview_walk_jump_sports2d_1768x994.mp4"
STRIDE = 3
FRAMES = (90, 210)
pytestmark = pytest.mark.usefixtures("blender")
UP = np.array([0.0, 0.0, 1.0])
FINGER = {"new": "index.02.L", "rigify": "f_index.02.L"}
HAND = {"new": ("hand.L", "hand.R"), "rigify": ("hand_fk.L", "hand_fk.R")}
FOOT = {"new": ("foot.L", "foot.R"), "rigify": ("foot_fk.L", "foot_fk.R")}
TOE = {"new": ("toe.L", "toe.R"), "rigify": ("toe_fk.L", "toe_fk.R")}


def _rig(kind: str, new_rigify_rig):
    if kind == "rigify":
        return new_rigify_rig()
    obj = bpy_keys.build_default_armature("Turn", S.LENGTHS, ankle_height=S.ANKLE_H)
    bpy_keys.add_finger_bones(obj, with_fingers=False)
    return obj


def _world(obj, bone: str) -> np.ndarray:
    """Posed world orientation [3, 3] of a bone at the current frame."""
    m = np.array(obj.matrix_world) @ np.array(obj.pose.bones[bone].matrix)
    return rigmap._rotation_part(m[:3, :3])


def _delta(obj, bone: str) -> np.ndarray:
    """World turn of a bone from its rest orientation at the current frame."""
    rest = rigmap._rotation_part((np.array(obj.matrix_world) @ np.array(obj.data.bones[bone].matrix_local))[:3, :3])
    return _world(obj, bone) @ rest.T


@pytest.mark.parametrize("kind", ["new", "rigify"])
def test_head_turn_and_forearm_roll_keyed(scene, new_rigify_rig, kind: str) -> None:
    T = 61
    m = S.standing(T)
    rows = np.arange(0, T, 3)
    yaw = 70 * np.sin(np.linspace(0, 2 * np.pi, T))
    roll = 80 * np.sin(np.linspace(0, 2 * np.pi, T))
    hand = Q.from_axis_angle(np.array([1.0, 0, 0]), np.radians(roll))  # the left hand's forearm axis is +X
    w = S.world33(m, rows, head_rel=S.yaw(yaw), hand_rel=hand)
    seg = {**m.rotations, **extremities.drive(m, w, rows).rotations}
    obj = _rig(kind, new_rigify_rig)
    rest = bpy_keys.rig_rest(obj)
    _src, bmap, constants = bonemap.bonemap_for(rest.names, rest.parents)
    assert "hand.L" in bmap and "head" in bmap
    bpy_keys.retarget_onto(
        obj,
        seg,
        m.joints[:, 0],
        S.LENGTHS,
        "turn",
        bonemap=bmap,
        constants=constants,
        rest=rest,
        ankle_height=S.ANKLE_H,
    )
    plain = rigmap.pose_rotations(rest, bmap, m.rotations, rest_directions())  # the same without the roll
    head, chest = ("DEF-spine.006", "DEF-spine.003") if kind == "rigify" else ("head", "chest")
    fore = bmap["forearm.L"]
    yaw_err, roll_err = [], []
    for t in range(T):
        scene.frame_set(1 + t)
        rel = Q.from_matrix(_delta(obj, chest).T @ _delta(obj, head))
        yaw_err.append(abs(np.degrees(Q.twist_angle_wrapped(rel, UP)) - yaw[t]))
        twist = Q.from_matrix(plain.world_rotations[fore][t].T @ _world(obj, fore))
        roll_err.append(abs(np.degrees(Q.twist_angle_wrapped(twist, np.array([0.0, 1.0, 0.0]))) - roll[t]))
    yaw_err, roll_err = np.array(yaw_err), np.array(roll_err)
    print(
        f"{kind}: head yaw error mean {yaw_err.mean():.2f} max {yaw_err.max():.2f}; "
        f"forearm roll error mean {roll_err.mean():.2f} max {roll_err.max():.2f} deg"
    )
    assert yaw_err.mean() < 1.5 and yaw_err.max() < 3.0
    assert roll_err.mean() < 2.5 and roll_err.max() < 5.0


# ---------------------------------------------------------------- the real walking clip


@pytest.fixture(scope="module")
def walk(videos_dir: Path, shared_dir: Path):
    import os

    import inference

    os.environ.setdefault("UPLIFT_HAND_MODEL", str(shared_dir / "models" / "hand_landmarker_full.task"))
    return inference.capture(videos_dir / CLIP, STRIDE, hands="fingers", frame_range=FRAMES)


@pytest.fixture()
def replay(monkeypatch: pytest.MonkeyPatch, walk):
    import inference

    monkeypatch.setattr(inference, "capture", lambda video, **kw: walk)
    return walk


def _run(videos_dir: Path, hands: str, kind: str, new_rigify_rig):
    target = new_rigify_rig() if kind == "rigify" else None
    res = bpy.ops.uplift.capture_video(
        "EXEC_DEFAULT",
        filepath=str(videos_dir / CLIP),
        stride=STRIDE,
        hands=hands,
        target_rig=target.name if target else "",
    )
    assert res == {"FINISHED"}
    return target or bpy.context.view_layer.objects.active


def _pitch(obj, bone: str) -> float:
    """Elevation (deg) of the posed bone's direction minus its rest elevation: + = toe up."""
    pb, b = obj.pose.bones[bone], obj.data.bones[bone]
    mw = obj.matrix_world

    def elev(head, tail) -> float:
        d = np.array(mw @ tail) - np.array(mw @ head)
        return float(np.degrees(np.arcsin(d[2] / np.linalg.norm(d))))

    return elev(pb.head, pb.tail) - elev(b.head_local, b.tail_local)


def test_walk_head_faces_where_the_chest_does(walk) -> None:
    """Walking, people look ahead: the head's turn from the chest stays small, from the face landmarks and
    from the 17 joints alike (whose plane normal once had the wrong sign here: 173 deg off)."""
    from retarget.motion import retarget_motion

    m = retarget_motion(walk.joints3d, fps=walk.fps, points2d=walk.points2d, image_size=tuple(walk.image_size))
    rot = extremities.drive(m, walk.world33, walk.keyframes).rotations
    yaw = np.abs(np.degrees(Q.twist_angle_wrapped(Q.mul(Q.conj(m.rotations["chest"]), rot["head"]), UP)))
    print(f"walk: head yaw from the chest median {np.median(yaw):.1f}, 90th percentile {np.percentile(yaw, 90):.1f}")
    assert np.median(yaw) < 20.0 and np.percentile(yaw, 90) < 35.0
    joints17 = np.abs(np.degrees(Q.twist_angle_wrapped(Q.mul(Q.conj(m.rotations["chest"]), m.rotations["head"]), UP)))
    assert np.median(joints17) < 20.0


@pytest.mark.parametrize("kind", ["new", "rigify"])
def test_walk_feet_pitch_and_stay_above_the_floor(scene, replay, videos_dir: Path, new_rigify_rig, kind: str) -> None:
    obj = _run(videos_dir, "WRISTS", kind, new_rigify_rig)
    feet, toes = FOOT[kind], TOE[kind]
    ends = list(feet) + (["DEF-toe.L", "DEF-toe.R"] if kind == "rigify" else list(toes))
    T = len(replay.joints3d)
    pitch, toe, low = [], [], np.inf
    for t in range(T):
        scene.frame_set(scene.frame_start + t)
        pitch.append([_pitch(obj, b) for b in feet])
        toe.append([_pitch(obj, b) for b in toes])
        mw = obj.matrix_world
        low = min(low, *((mw @ obj.pose.bones[b].tail).z for b in ends))
    pitch, bend = np.array(pitch), np.array(toe) - np.array(pitch)
    floor = min(
        min((obj.matrix_world @ b.tail_local).z, (obj.matrix_world @ b.head_local).z)
        for b in obj.data.bones
        if b.name in ends
    )
    floor = min(floor, 0.0)  # the rig's own rest: its soles stand at or above the floor
    print(
        f"{kind}: foot pitch range {np.ptp(pitch, axis=0).round(1)} deg (min {pitch.min():.1f}, max "
        f"{pitch.max():.1f}); lowest foot/toe end {100 * low:+.2f} cm (rest {100 * floor:+.2f} cm)"
    )
    print(f"{kind}: toe bend up to {bend.max():.1f} deg (heel up, toes on the floor), least {bend.min():.1f}")
    assert np.ptp(pitch, axis=0).min() > 20.0, "the feet should pitch while walking"
    assert bend.max() > 5.0 and bend.min() > -1.0, "toes bend up (never down) to stay on the floor"
    assert pitch.max() > 5.0 and pitch.min() < -5.0, "heel strike (toe up) and push-off (toe down) both show"
    assert low > floor - 0.002, "a foot went under the floor"


@pytest.mark.parametrize("kind", ["new", "rigify"])
@pytest.mark.parametrize("hands", ["OFF", "WRISTS", "FINGERS"])
def test_hands_modes(scene, replay, videos_dir: Path, new_rigify_rig, kind: str, hands: str) -> None:
    obj = _run(videos_dir, hands, kind, new_rigify_rig)
    quats, _ = bone_quats(obj.animation_data.action, obj)

    def moves(bone: str) -> bool:
        q = quats.get(bone)
        return q is not None and len(q) > 1 and np.degrees(Q.angle_between(q, q[:1])).max() > 5.0

    hand_l, hand_r = HAND[kind]
    if hands == "OFF":
        assert not moves(hand_l) and not moves(hand_r)
        if kind == "new":
            assert hand_l not in obj.data.bones  # no hands on a new armature
    else:
        assert moves(hand_l) and moves(hand_r), "WRISTS and FINGERS turn the hands"
    found = np.isfinite(replay.hands3d[replay.keyframes][:, 0, 0, 0]).any()
    assert found, "HandLandmarker should find the left hand on some key-frames of the walk"
    assert moves(FINGER[kind]) == (hands == "FINGERS")
