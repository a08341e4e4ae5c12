"""Camera pitch / roll in Blender: the estimate reaches the armature and the sidebar, the user's overrides
reach the retarget, and a capture from a pitched camera, lifted by the real model, stands upright.

No real clip with a known camera tilt is available (the shared videos have no calibrated reference), so the
pitched camera is virtual: a mocap walk the lifter never trained on (cmu_005_01, validation split) seen from
3 m up, pitched down ~25 deg and rolled 8 deg, projected with 2 px noise on every 5th frame, then
`inference.uplift` as in a real capture.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

bpy = pytest.importorskip("bpy")
from bpy_helpers import VIDEO_FPS, Layout  # noqa: E402

from addon import apply, batch, job, panels  # noqa: E402

pytestmark = pytest.mark.usefixtures("blender")


def _new_armature(scene, before: set[str]):
    (arm,) = [o for o in scene.objects if o.name not in before and o.type == "ARMATURE"]
    return arm


def test_capture_stores_the_camera_and_the_sidebar_shows_it(scene, fake_capture, mocap_result) -> None:
    before = {o.name for o in scene.objects}
    assert bpy.ops.uplift.capture_video(filepath=mocap_result.source, stride=5) == {"FINISHED"}
    arm = _new_armature(scene, before)
    # The simulated camera (conftest) is 1.2 m high, 6 m away, looking at 1 m: pitched ~2 deg down, no roll.
    assert abs(arm["uplift_camera_pitch"] + 1.9) < 3.0 and abs(arm["uplift_camera_roll"]) < 3.0
    assert arm["uplift_camera_method"] not in ("", "level") and 0.5 < arm["uplift_camera_confidence"] <= 1.0
    assert arm.animation_data.action["uplift_camera_pitch"] == arm["uplift_camera_pitch"]
    seen: list[str] = []
    bpy.context.view_layer.objects.active = arm
    bpy.types.UPLIFT_PT_capture.draw(type("P", (), {"layout": Layout(seen)})(), bpy.context)
    for name in ("assume_level", "camera_override"):
        assert name in seen
    labels = " | ".join(s for s in seen if s.startswith("label:"))
    assert f"Pitch {arm['uplift_camera_pitch']:+.1f}°" in labels and "Confidence" in labels


def test_overrides_from_the_operator_reach_the_retarget(scene, fake_capture, mocap_result) -> None:
    before = {o.name for o in scene.objects}
    res = bpy.ops.uplift.capture_video(
        filepath=mocap_result.source, camera_override=True, camera_pitch=-20.0, camera_roll=4.0
    )
    assert res == {"FINISHED"}
    arm = _new_armature(scene, before)
    assert (arm["uplift_camera_pitch"], arm["uplift_camera_roll"], arm["uplift_camera_method"]) == (
        -20.0,
        4.0,
        "override",
    )
    before = {o.name for o in scene.objects}
    assert bpy.ops.uplift.capture_video(filepath=mocap_result.source, assume_level=True) == {"FINISHED"}
    arm = _new_armature(scene, before)
    assert arm["uplift_camera_method"] == "assumed level" and arm["uplift_camera_pitch"] == 0.0
    seen: list[str] = []
    bpy.context.view_layer.objects.active = arm
    panels.draw_camera(Layout(seen), panels.captured_object(bpy.context))
    assert "label:Assumed level" in seen


def test_settings_map_to_capture_options(scene) -> None:
    from addon import props

    s = scene.uplift_capture
    assert props.to_options(s, "x.mp4").camera_pitch is None  # default: measure the tilt
    s.camera_override, s.camera_pitch, s.camera_roll, s.assume_level = True, -33.0, 2.5, True
    o = props.to_options(s, "x.mp4")
    assert (o.camera_pitch, o.camera_roll, o.assume_level) == (-33.0, 2.5, True)
    r = apply.retarget_options(o)
    assert (r.camera_pitch, r.camera_roll, r.assume_level) == (-33.0, 2.5, True)


def test_batch_flags() -> None:
    a = batch.parse_args(["c.mp4", "-o", "out", "--camera-pitch", "-12.5", "--camera-roll", "3", "--assume-level"])
    assert (a.camera_pitch, a.camera_roll, a.assume_level) == (-12.5, 3.0, True)
    a = batch.parse_args(["c.mp4", "-o", "out"])
    assert (a.camera_pitch, a.camera_roll, a.assume_level) == (None, None, False)
    with pytest.raises(SystemExit) as exc:
        batch.parse_args(["c.mp4", "-o", "out", "--camera-pitch", "120"])
    assert exc.value.code == 2


# ------------------------------------------------------------------ pitched camera through the real lifter


@pytest.fixture(scope="module")
def pitched_capture(mocap_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from retarget_sim import Camera, load_clip, simulate

    from inference import CaptureResult, CaptureStats, Timings, uplift

    world, fps = load_clip(mocap_dir, "cmu_005_01")
    world = world[:: int(round(fps / VIDEO_FPS))]
    world[..., 2] -= world[:, [3, 6], 2].min() - 0.08
    ctr = world[:, 0].mean(axis=0)
    cam = Camera(position=ctr + [0.5, -5.5, 3.0 - ctr[2]], target=ctr * [1, 1, 0] + [0, 0, 0.45], roll_deg=8.0)
    _, p2 = simulate(world, cam, stride=5, noise_px=2.0)
    joints = uplift(p2.astype(np.float32), cam.image_size, VIDEO_FPS, device="cpu")
    T = len(joints)
    video = tmp_path_factory.mktemp("pitched") / "pitched_walk.mp4"
    video.write_bytes(b"")
    keys = np.flatnonzero(np.isfinite(p2).all(axis=(1, 2)))
    result = CaptureResult(
        joints3d=joints,
        points2d=p2.astype(np.float32),
        keyframes=keys,
        fps=VIDEO_FPS,
        image_size=cam.image_size,
        timestamps=np.arange(T) / VIDEO_FPS,
        timings=Timings(),
        stats=CaptureStats(T, len(keys), len(keys), 1, 1, len(keys), "largest", 0),
        source=str(video),
        stride=5,
        detected=np.ones(len(keys), bool),
    )
    pitch = float(np.degrees(np.arcsin(cam.up_cam[2])))
    return result, world, pitch


def _lean_deg(arm, frames: range) -> np.ndarray:
    """Angle from world Z of the keyed body's thorax-over-ankles line (chest tail over the shin tails)."""
    out = []
    for f in frames:
        bpy.context.scene.frame_set(f)
        pb, mw = arm.pose.bones, arm.matrix_world
        ankles = 0.5 * (np.array(mw @ pb["shin.L"].tail) + np.array(mw @ pb["shin.R"].tail))
        v = np.array(mw @ pb["chest"].tail) - ankles
        out.append(np.degrees(np.arccos(v[2] / np.linalg.norm(v))))
    return np.array(out)


@pytest.mark.slow
def test_pitched_camera_capture_stands_upright(scene, pitched_capture) -> None:
    result, world, pitch = pitched_capture
    truth = world[:, 8] - 0.5 * (world[:, 3] + world[:, 6])
    true_lean = np.degrees(np.arccos(truth[:, 2] / np.linalg.norm(truth, axis=1)))
    frames = range(scene.frame_start, scene.frame_start + len(world), 3)
    auto = apply.apply_capture(bpy.context, result, job.CaptureOptions(video=result.source))
    lean = _lean_deg(auto.armature, frames)
    level = apply.apply_capture(bpy.context, result, job.CaptureOptions(video=result.source, assume_level=True))
    lean_level = _lean_deg(level.armature, frames)
    tl = np.median(true_lean[::3])
    print(
        f"camera pitch {pitch:.1f} deg; {auto.camera}; walker's lean from vertical: true {tl:.1f}, "
        f"keyed {np.median(lean):.1f} (assuming a level camera: {np.median(lean_level):.1f}) deg"
    )
    assert pitch < -20.0
    assert abs(auto.armature["uplift_camera_pitch"] - pitch) < 6.0
    assert np.median(lean) < tl + 5.0  # upright within the lifter's own tilt error
    assert np.median(lean_level) > tl + 15.0  # what assuming a level camera would have keyed
