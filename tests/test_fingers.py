"""Fingers end to end with real MediaPipe (HandLandmarker) and real bpy: 01_squats, where both hands are in view.

One real capture of frames 0-40 at stride 10 (5 key-frames) is shared by the module; the operator runs
that result through the real retarget and keys (hands OFF / WRISTS / FINGERS, new armature and Rigify),
and one test runs the whole operator, MediaPipe included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

bpy = pytest.importorskip("bpy")
from bpy_helpers import bone_quats  # noqa: E402

CLIP = "01_squats_tfjs_720x1280.mp4"
FRAMES = (0, 41)
pytestmark = pytest.mark.usefixtures("blender")


@pytest.fixture(scope="module")
def squats(videos_dir: Path, shared_dir: Path):
    import os

    import inference

    os.environ.setdefault("UPLIFT_HAND_MODEL", str(shared_dir / "models" / "hand_landmarker_full.task"))
    return inference.capture(videos_dir / CLIP, 10, hands="fingers", frame_range=FRAMES)


@pytest.fixture()
def replay(monkeypatch: pytest.MonkeyPatch, squats):
    import inference

    monkeypatch.setattr(inference, "capture", lambda video, **kw: squats)
    return squats


def _run(videos_dir: Path, hands: str, target: str = "") -> object:
    bpy.context.scene.render.fps = 5  # the clip's rate: one key per frame
    res = bpy.ops.uplift.capture_video(
        "EXEC_DEFAULT", filepath=str(videos_dir / CLIP), stride=10, hands=hands, target_rig=target
    )
    assert res == {"FINISHED"}
    return bpy.context.view_layer.objects.active if not target else bpy.context.scene.objects[target]


def _angles(q: np.ndarray) -> np.ndarray:
    return np.degrees(2 * np.arccos(np.clip(np.abs(q[:, 0]), 0.0, 1.0)))


FINGER_BONES = [f"{f}.0{k}.{s}" for s in "LR" for f in ("thumb", "index", "middle", "ring", "pinky") for k in (1, 2, 3)]


def _check_fingers(obj, squats, names: list[str]) -> None:
    quats, frames = bone_quats(obj.animation_data.action, obj)
    keys = np.asarray(squats.keyframes)
    found = np.isfinite(squats.hands3d[keys][:, :, 0, 0])  # [K, 2]
    assert found.sum() >= 6, "the hands should be found on most key-frames of 01_squats"
    moving = 0
    for seg, bone in zip(FINGER_BONES, names):
        assert bone in quats, f"{bone} ({seg}) not keyed"
        q = quats[bone]
        assert len(q) == FRAMES[1] - FRAMES[0] and np.isfinite(q).all()
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
        side = 0 if seg.endswith(".L") else 1
        ang = _angles(q[keys[found[:, side]]])
        assert ang.max() < 180.0
        moving += bool(np.ptp(ang) > 5.0)  # the finger's rotation changes between key-frames that saw the hand
    assert moving >= 20, f"only {moving} of 30 finger bones move"
    # Relaxed hands curl towards the palm: the middle joints bend (not sideways, not backwards) on average.
    mids = [_angles(quats[n])[keys].mean() for s, n in zip(FINGER_BONES, names) if ".02." in s and "thumb" not in s]
    assert np.mean(mids) > 10.0


def test_capture_fingers_onto_new_armature_end_to_end(scene, videos_dir: Path, shared_dir: Path) -> None:
    import os

    os.environ.setdefault("UPLIFT_HAND_MODEL", str(shared_dir / "models" / "hand_landmarker_full.task"))
    res = bpy.ops.uplift.capture_video(
        "EXEC_DEFAULT",
        filepath=str(videos_dir / CLIP),
        stride=10,
        hands="FINGERS",
        use_frame_range=True,
        frame_start=FRAMES[0],
        frame_end=FRAMES[1] - 1,
    )
    assert res == {"FINISHED"}
    arm = bpy.context.view_layer.objects.active
    assert all(b in arm.data.bones for b in FINGER_BONES + ["hand.L", "hand.R"])
    quats, _ = bone_quats(arm.animation_data.action, arm)
    assert sum(np.ptp(_angles(quats[b])) > 5.0 for b in FINGER_BONES) >= 20


def test_fingers_new_armature_bvh_and_fbx(scene, replay, videos_dir: Path, tmp_path: Path) -> None:
    arm = _run(videos_dir, "FINGERS")
    _check_fingers(arm, replay, FINGER_BONES)
    scene.frame_start, scene.frame_end = 1, FRAMES[1]
    bvh = tmp_path / "take.bvh"
    bpy.ops.export_anim.bvh(filepath=str(bvh), frame_start=1, frame_end=FRAMES[1], rotate_mode="NATIVE")
    text = bvh.read_text()
    assert all(f"JOINT {b}" in text for b in FINGER_BONES)
    # The motion block's channels for one finger joint change over the clip (the BVH carries the curl).
    head = [ln.split() for ln in text.split("MOTION")[0].splitlines()]
    col, joint = 0, None
    for words in head:  # the column of index.02.L's first rotation channel
        if words and words[0] in ("ROOT", "JOINT"):
            joint = words[1]
        elif words and words[0] == "CHANNELS":
            if joint == "index.02.L":
                col += next(k for k, w in enumerate(words[2:]) if w.endswith("rotation"))
                break
            col += int(words[1])
    rows = np.array([[float(v) for v in ln.split()] for ln in text.split("Frame Time:")[1].splitlines()[1:] if ln])
    assert np.ptp(rows[:, col : col + 3], axis=0).max() > 5.0  # the BVH carries the finger's curl
    fbx = tmp_path / "take.fbx"
    bpy.ops.export_scene.fbx(filepath=str(fbx), use_selection=False, object_types={"ARMATURE"}, bake_anim=True)
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.import_scene.fbx(filepath=str(fbx))
    imported = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    curves = {fc.data_path.split('"')[1] for fc in _fcurves(imported) if fc.data_path.startswith("pose.bones")}
    assert set(FINGER_BONES) <= curves


def _fcurves(obj) -> list:
    from addon import check2d

    return check2d._fcurves(obj.animation_data)


@pytest.mark.parametrize("hands", ["OFF", "WRISTS"])
def test_no_fingers_unless_asked_new_armature(scene, replay, videos_dir: Path, hands: str) -> None:
    arm = _run(videos_dir, hands)
    assert not any(b in arm.data.bones for b in FINGER_BONES)  # the armature gets fingers only with FINGERS
    assert arm.animation_data.action is not None


@pytest.mark.parametrize("hands", ["OFF", "WRISTS", "FINGERS"])
def test_hands_modes_on_rigify(scene, replay, videos_dir: Path, new_rigify_rig, hands: str) -> None:
    rig = new_rigify_rig()
    names = [f"thumb.0{k}.{s}" if f == "thumb" else f"f_{f}.0{k}.{s}" for s, f, k in _split(FINGER_BONES)]
    assert all(n in rig.pose.bones for n in names)
    _run(videos_dir, hands, rig.name)
    quats, _ = bone_quats(rig.animation_data.action, rig)
    if hands == "FINGERS":
        _check_fingers(rig, replay, names)
        # The deforming bones follow the keyed FK controls: the middle finger's middle joint bends over time.
        bends = []
        for f in np.asarray(replay.keyframes) + bpy.context.scene.frame_start:
            bpy.context.scene.frame_set(int(f))
            a, b = (rig.pose.bones[f"DEF-f_middle.0{k}.L"].matrix.col[1].xyz for k in (1, 2))
            bends.append(np.degrees(a.angle(b)))
        assert np.ptp(bends) > 5.0 and max(bends) > 10.0, bends
    else:
        assert not any(n in quats for n in names)


def _split(bones: list[str]) -> list[tuple[str, str, int]]:
    return [(b[-1], b.split(".")[0], int(b.split(".")[1])) for b in bones]
