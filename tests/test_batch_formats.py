"""Every batch output format imported back into Blender carries the animation the capture keyed.

The batch's own per-clip step (addon/batch_clip.run) runs in this process with the real retarget, keys and
Blender's own exporters/importers; only the video stage is replaced (fake_capture: a CMU walk). The joints'
world positions in the re-imported file are compared with the captured armature's, frame by frame.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

bpy = pytest.importorskip("bpy")
from addon import batch_clip  # noqa: E402

pytestmark = pytest.mark.usefixtures("blender")

FRAMES = (1, 23, 46, 90)  # scene frames of the 90-frame walk


def _options() -> dict:
    return {
        "stride": 5,
        "pose_model": "full",
        "person": "largest",
        "max_people": 1,
        "frames": None,
        "device": "cpu",
        "smoothing": 0.5,
        "root_motion": True,
        "foot_locking": True,
        "assume_level": True,
        "camera_pitch": None,
        "camera_roll": None,
        "rig": None,
        "rig_object": "",
        "overwrite": False,
    }


def _heads(arm, bones: list[str], frames=FRAMES) -> np.ndarray:
    """World positions of the bones' heads - the joints (importers rebuild bone tails their own way) [F, B, 3]."""
    scene = bpy.context.scene
    out = []
    for f in frames:
        scene.frame_set(f)
        bpy.context.view_layer.update()
        out.append([list(arm.matrix_world @ arm.pose.bones[b].head) for b in bones])
    return np.array(out)


def _reimport(fmt: str, path: Path, fps: int):
    """Into an empty scene at the clip's rate (FBX and glTF store seconds, read back in the scene's fps)."""
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = fps, 1.0
    if fmt == "blend":
        with bpy.data.libraries.load(str(path)) as (src, dst):
            dst.objects = list(src.objects)
        for obj in dst.objects:
            bpy.context.scene.collection.objects.link(obj)
    elif fmt == "bvh":
        batch_clip._enable("io_anim_bvh")
        # Blender's BVH exporter writes its own Z-up axes (it has no axis option): read them back as such
        bpy.ops.import_anim.bvh(
            filepath=str(path), global_scale=1.0, frame_start=1, rotate_mode="NATIVE", axis_forward="Y", axis_up="Z"
        )
    elif fmt == "fbx":
        batch_clip._enable("io_scene_fbx")
        bpy.ops.import_scene.fbx(filepath=str(path), anim_offset=0.0)  # its default shifts keys a frame later
    else:
        batch_clip._enable("io_scene_gltf2")
        bpy.ops.import_scene.gltf(filepath=str(path))
    arms = [o for o in bpy.context.scene.objects if o.type == "ARMATURE"]
    assert len(arms) == 1, [o.name for o in bpy.context.scene.objects]
    return arms[0]


@pytest.mark.parametrize("fmt", ["blend", "bvh", "fbx", "glb"])
def test_format_round_trip_keeps_the_motion(fmt: str, fake_capture, mocap_result, tmp_path: Path) -> None:
    out = tmp_path / f"walk.{fmt}"
    job = {"input": mocap_result.source, "output": str(out), "format": fmt, "options": _options()}
    rec = batch_clip.run(job)
    assert rec["status"] == "done", rec["error"]
    assert rec["frames"] == 90 and rec["worker_peak_mb"] > 50
    assert out.is_file() and not list(tmp_path.glob(".*partial*"))
    src = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    bones = [b.name for b in src.data.bones]
    want = _heads(src, bones)
    assert np.ptp(want[:, :, :2], axis=0).max() > 0.3  # the walk moves: a still pose would prove nothing
    arm = _reimport(fmt, out, round(mocap_result.fps))
    action = arm.animation_data.action if arm.animation_data else None
    assert action is not None
    start, end = action.frame_range
    assert start <= 1 and end >= 89, (start, end)
    assert set(bones) <= {b.name for b in arm.data.bones}
    got = _heads(arm, bones)
    err = np.linalg.norm(got - want, axis=-1)
    assert err.max() < 0.03, f"{fmt}: joints differ by up to {err.max() * 100:.1f} cm after re-import"


def test_unknown_format_is_a_failed_record_not_a_crash(fake_capture, mocap_result, tmp_path: Path) -> None:
    out = tmp_path / "walk.obj"
    rec = batch_clip.run({"input": mocap_result.source, "output": str(out), "format": "obj", "options": _options()})
    assert rec["status"] == "failed" and "unknown format" in rec["error"] and not out.exists()
