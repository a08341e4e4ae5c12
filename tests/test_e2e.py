"""End to end with everything real: video -> MediaPipe -> the shipped model -> retarget -> keys in bpy.

02_dance (576x576, 30 fps, 120 frames) at stride 10: 12 MediaPipe key-frames, the model fills in the rest.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

bpy = pytest.importorskip("bpy")
from bpy_helpers import check_keys, ids, lowest_z  # noqa: E402

CLIP = "02_dance_tfjs_576x576.mp4"
FRAMES = 120

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("blender")]


def test_dance_onto_new_armature_with_undo(scene, videos_dir: Path) -> None:
    bpy.ops.ed.undo_push(message="empty scene")
    before = ids()
    res = bpy.ops.uplift.capture_video("EXEC_DEFAULT", True, filepath=str(videos_dir / CLIP), stride=10, check_2d=True)
    assert res == {"FINISHED"}
    arm = bpy.context.view_layer.objects.active
    assert arm.type == "ARMATURE" and arm.animation_data.action.name == Path(CLIP).stem
    check_keys(arm, FRAMES, scene.frame_start)
    frames = range(1, FRAMES + 1, 2)
    low = math.inf
    for f in frames:  # the shins' tails are the ankles
        scene.frame_set(f)
        low = min(low, *((arm.matrix_world @ arm.pose.bones[b].tail).z for b in ("shin.L", "shin.R")))
    assert low >= -0.01
    assert f"{Path(CLIP).stem} 2D Check" in bpy.data.collections
    bpy.ops.ed.undo()
    assert ids() == before


def test_dance_onto_rigify_keeps_user_action(scene, videos_dir: Path, new_rigify_rig) -> None:
    rig = new_rigify_rig()
    mine = bpy.data.actions.new("my_idle")
    rig.animation_data_create().action = mine
    res = bpy.ops.uplift.capture_video(filepath=str(videos_dir / CLIP), stride=10, target_rig=rig.name)
    assert res == {"FINISHED"}
    assert rig.animation_data.action.name == Path(CLIP).stem and "my_idle" in bpy.data.actions
    check_keys(rig, FRAMES, scene.frame_start)
    assert lowest_z(rig, ["DEF-foot.L", "DEF-foot.R"], range(1, FRAMES + 1, 2), ends=("head",)) >= -0.01


def test_batch_bvh_fbx_blend_and_a_bad_clip(tmp_path: Path, videos_dir: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 4096)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    outs = {}
    for fmt in ("bvh", "fbx", "blend"):
        out = tmp_path / fmt
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "addon.batch",
                str(videos_dir / CLIP),
                str(bad),
                "-o",
                str(out),
                "--format",
                fmt,
                "--stride",
                "20",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]  # the bad clip fails the run...
        assert proc.stdout.splitlines()[-1] == "1 captured, 1 failed, 0 skipped"  # ...after the good one
        outs[fmt] = out / f"{Path(CLIP).stem}.{fmt}"
        assert outs[fmt].is_file() and outs[fmt].stat().st_size > 1000
    text = outs["bvh"].read_text()
    assert "HIERARCHY" in text and f"Frames: {FRAMES}" in text
    motion = [ln for ln in text.split("MOTION")[1].splitlines()[3:] if ln.strip()]
    values = np.array([[float(v) for v in ln.split()] for ln in motion])
    assert values.shape[0] == FRAMES and np.isfinite(values).all()
    assert outs["fbx"].read_bytes()[:18] == b"Kaydara FBX Binary"
