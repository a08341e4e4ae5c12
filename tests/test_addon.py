"""The add-on with real bpy: registration, the operator's write step, undo, rollback, cancel, 2D check.

The capture stage is fed with real motion capture seen through a simulated camera (tests/retarget_sim.py),
so these tests check the operator, the retarget and the keys on known human motion independent of the
model. test_e2e.py runs the same operator on real video with the real model.
"""

from __future__ import annotations

import dataclasses

import math
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402

import addon  # noqa: E402
import inference  # noqa: E402
from addon import apply, job  # noqa: E402
from inference import CaptureResult, CaptureStats, Timings  # noqa: E402
from retarget_sim import Camera, load_clip, simulate  # noqa: E402

VIDEO_FPS = 30.0


@pytest.fixture(scope="module", autouse=True)
def blender():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("rigify", default_set=True)
    addon.register()
    yield
    addon.unregister()


@pytest.fixture()
def scene():
    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = int(VIDEO_FPS), 1.0
    return sc


@pytest.fixture(scope="module")
def mocap_result(mocap_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> CaptureResult:
    """A walk (CMU, 120 fps -> 30 fps, 3 s) as capture would deliver it: camera joints + 2D every 5th frame."""
    world, fps = load_clip(mocap_dir, "cmuexp_test_walking_11")
    world = world[:: int(round(fps / VIDEO_FPS))][:90]
    cam = Camera(
        position=np.array([0.0, -6.0, 1.2]), target=world[0, 0] * [1, 1, 0] + [0, 0, 1.0], image_size=(1280, 720)
    )
    joints, p2 = simulate(world, cam, stride=5)
    T = len(joints)
    video = tmp_path_factory.mktemp("clip") / "walk_take.mp4"
    video.write_bytes(b"")  # only the name is used by the write step
    keys = np.arange(0, T, 5)
    return CaptureResult(
        joints3d=joints.astype(np.float32),
        points2d=p2.astype(np.float32),
        keyframes=keys,
        fps=VIDEO_FPS,
        image_size=(1280, 720),
        timestamps=np.arange(T) / VIDEO_FPS,
        timings=Timings(decode=0.1, pose2d=0.4, uplift=0.05),
        warnings=[],
        stats=CaptureStats(
            frames=T,
            keyframes=len(keys),
            detected=len(keys),
            people_max=1,
            people_tracks=1,
            keyframes_with_people=len(keys),
            person="largest",
            track_id=0,
        ),
        source=str(video),
        stride=5,
        frame_start=0,
        detected=np.ones(len(keys), bool),
    )


@pytest.fixture()
def fake_capture(monkeypatch: pytest.MonkeyPatch, mocap_result: CaptureResult):
    """Replace only the video stage: the operator, retarget and keys are the real ones."""
    calls = []

    def capture(video, **kw):
        calls.append(kw)
        return mocap_result

    monkeypatch.setattr(inference, "capture", capture)
    return calls


def ids() -> dict[str, set[str]]:
    return {
        c: {i.name for i in getattr(bpy.data, c)}
        for c in ("objects", "armatures", "actions", "cameras", "movieclips", "collections")
    }


def bone_quats(action, obj) -> dict[str, np.ndarray]:
    """bone -> [T, 4] quaternion keys read back from the action's F-curves."""
    fcurves = apply.check2d._fcurves(obj.animation_data)
    out: dict[str, list] = {}
    for fc in fcurves:
        if fc.data_path.endswith("rotation_quaternion"):
            bone = fc.data_path.split('"')[1]
            co = np.empty(2 * len(fc.keyframe_points))
            fc.keyframe_points.foreach_get("co", co)
            out.setdefault(bone, [None] * 4)[fc.array_index] = co.reshape(-1, 2)
    return {b: np.stack([c[:, 1] for c in v], axis=1) for b, v in out.items()}, {b: v[0][:, 0] for b, v in out.items()}


def lowest_z(obj, bones: list[str], frames: range) -> float:
    low = math.inf
    sc = bpy.context.scene
    for f in frames:
        sc.frame_set(f)
        mw = obj.matrix_world
        for b in bones:
            pb = obj.pose.bones[b]
            low = min(low, (mw @ pb.head).z, (mw @ pb.tail).z)
    return low


def check_keys(obj, n_frames: int, first: int) -> None:
    quats, frames = bone_quats(obj.animation_data.action, obj)
    held = {b for b, f in frames.items() if len(f) == 1}  # bones held at rest by one constant key
    for bone in held:
        np.testing.assert_allclose(quats[bone], [[1, 0, 0, 0]], err_msg=bone)
    animated = {b: q for b, q in quats.items() if b not in held}
    assert len(animated) >= 13, f"only {sorted(animated)} animated"
    for bone, q in animated.items():
        np.testing.assert_array_equal(frames[bone], np.arange(first, first + n_frames), err_msg=bone)  # every frame
        assert np.all(np.isfinite(q)), bone
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
        dots = np.abs(np.sum(q[1:] * q[:-1], axis=1))
        step_deg = np.degrees(2 * np.arccos(np.clip(dots, -1, 1)))
        assert step_deg.max() < 45.0, f"{bone}: jumps {step_deg.max():.1f} deg in one frame"
        assert np.all(np.sum(q[1:] * q[:-1], axis=1) > 0), f"{bone}: quaternion sign flips (not continuous)"


def test_register_adds_operator_menu_panel_and_unregister_removes_them() -> None:
    assert hasattr(bpy.types, "UPLIFT_OT_capture_video") and hasattr(bpy.types, "UPLIFT_PT_capture")
    assert "menu_import" in [f.__name__ for f in bpy.types.TOPBAR_MT_file_import._dyn_ui_initialize()]
    addon.unregister()
    try:
        assert not hasattr(bpy.types, "UPLIFT_OT_capture_video")
        assert not hasattr(bpy.types.Scene, "uplift_capture")
    finally:
        addon.register()


def test_capture_onto_new_armature(scene, fake_capture, mocap_result) -> None:
    before = ids()
    res = bpy.ops.uplift.capture_video(filepath=mocap_result.source, stride=5, smoothing=0.5)
    assert res == {"FINISHED"}
    assert fake_capture[0]["stride"] == 5 and str(fake_capture[0]["pose_model"]).endswith("full.task")
    new = [o for o in scene.objects if o.name not in before["objects"]]
    assert [o.type for o in new] == ["ARMATURE"]
    arm = new[0]
    assert arm.animation_data.action.name == "walk_take"
    check_keys(arm, 90, scene.frame_start)
    feet = ["shin.L", "shin.R"]  # the default rig's shins end at the ankles
    assert lowest_z(arm, feet, range(scene.frame_start, scene.frame_start + 90, 3)) >= -0.01
    assert bpy.context.view_layer.objects.active == arm


def _rigify_rig():
    bpy.ops.object.armature_human_metarig_add()
    meta = bpy.context.view_layer.objects.active
    bpy.ops.pose.rigify_generate()
    rig = bpy.context.view_layer.objects.active
    bpy.data.objects.remove(meta)
    return rig


def test_capture_onto_rigify_keeps_the_users_action(scene, fake_capture, mocap_result) -> None:
    rig = _rigify_rig()
    user_action = bpy.data.actions.new("users_walk")
    rig.animation_data_create().action = user_action
    res = bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig=rig.name)
    assert res == {"FINISHED"}
    action = rig.animation_data.action
    assert action != user_action and action.name == "walk_take"
    assert user_action.name in bpy.data.actions and user_action.use_fake_user
    assert any(s.action == user_action for t in rig.animation_data.nla_tracks for s in t.strips)
    check_keys(rig, 90, scene.frame_start)
    ankles = ["DEF-foot.L", "DEF-foot.R"]  # heads of the foot bones = ankles, which the retarget grounds
    frames = range(scene.frame_start, scene.frame_start + 90, 3)
    assert _lowest_heads(rig, ankles, frames) >= -0.01


def test_rigify_toes_stay_above_the_floor(scene, fake_capture, mocap_result) -> None:
    rig = _rigify_rig()
    assert bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig=rig.name) == {"FINISHED"}
    feet = ["DEF-foot.L", "DEF-foot.R", "DEF-toe.L", "DEF-toe.R"]
    assert lowest_z(rig, feet, range(scene.frame_start, scene.frame_start + 90, 3)) >= -0.01


def _lowest_heads(obj, bones: list[str], frames: range) -> float:
    low = math.inf
    for f in frames:
        bpy.context.scene.frame_set(f)
        low = min(low, *((obj.matrix_world @ obj.pose.bones[b].head).z for b in bones))
    return low


def test_undo_restores_the_scene(scene, fake_capture, mocap_result) -> None:
    """Called as the UI calls it (undo=True: Blender pushes the operator's undo step), then Ctrl+Z once."""
    bpy.ops.mesh.primitive_cube_add()
    bpy.ops.ed.undo_push(message="before capture")
    before = ids()
    assert bpy.ops.uplift.capture_video("EXEC_DEFAULT", True, filepath=mocap_result.source) == {"FINISHED"}
    after = ids()
    assert after != before
    bpy.ops.ed.undo()  # one step undoes the whole capture
    assert ids() == before and "Cube" in bpy.data.objects
    bpy.ops.ed.redo()
    assert ids() == after


def test_failed_write_leaves_the_scene_as_it_was(scene, fake_capture, mocap_result) -> None:
    """A rig without hips and legs: the error names the problem, nothing is added, the user's action stays."""
    arm_data = bpy.data.armatures.new("Crane")
    crane = bpy.data.objects.new("Crane", arm_data)
    scene.collection.objects.link(crane)
    bpy.context.view_layer.objects.active = crane
    bpy.ops.object.mode_set(mode="EDIT")
    b = arm_data.edit_bones.new("boom")
    b.tail = (0, 0, 1)
    bpy.ops.object.mode_set(mode="OBJECT")
    own = bpy.data.actions.new("crane_swing")
    crane.animation_data_create().action = own
    before = ids()
    with pytest.raises(RuntimeError, match="hips and legs"):
        bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig="Crane")
    assert ids() == before
    assert crane.animation_data.action == own and len(crane.animation_data.nla_tracks) == 0


def test_bad_requests_are_refused_before_any_work(scene, fake_capture, tmp_path) -> None:
    before = ids()
    with pytest.raises(RuntimeError, match="not found"):
        bpy.ops.uplift.capture_video(filepath=str(tmp_path / "nope.mp4"))
    bpy.ops.mesh.primitive_cube_add()
    before = ids()
    with pytest.raises(RuntimeError, match="not an armature"):
        bpy.ops.uplift.capture_video(filepath=__file__, target_rig="Cube")
    assert ids() == before and fake_capture == []


def test_cancel_stops_a_real_capture_and_changes_nothing(videos_dir: Path) -> None:
    """The job the modal operator polls: Esc sets the cancel flag; capture stops and nothing is produced."""
    bpy.ops.wm.read_homefile(use_empty=True)
    before = ids()
    opts = job.CaptureOptions(video=str(videos_dir / "02_dance_tfjs_576x576.mp4"), stride=1)
    capture_job = job.CaptureJob(opts)
    capture_job.start()
    deadline = time.monotonic() + 120
    while capture_job.done_count < 3 and capture_job.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert capture_job.stage == "pose2d" and capture_job.running
    capture_job.cancel()
    capture_job.join(60)
    assert not capture_job.running
    assert isinstance(capture_job.error, inference.CaptureCancelled)
    assert capture_job.result is None and capture_job.done_count < 120
    assert "cancel" in capture_job.error_message().lower()
    assert ids() == before


def test_2d_check_puts_keyed_points_over_the_clip(scene, mocap_result, videos_dir) -> None:
    from addon import check2d

    res = dataclasses.replace(mocap_result, source=str(videos_dir / "02_dance_tfjs_576x576.mp4"))
    chk = check2d.build(bpy.context, res, "dance", first_frame=1)
    assert chk.clip.frame_start == 1 and chk.camera.data.background_images[0].clip == chk.clip
    assert len(chk.empties) == 17
    ew, eh = check2d.frame_extent(scene)
    pelvis = chk.empties[0]
    for row in (0, 5, 10):
        scene.frame_set(1 + row)
        x, y, z = pelvis.location
        u = mocap_result.points2d[row, 0, 0] / 1280
        assert x == pytest.approx((u - 0.5) * ew, abs=1e-5) and z == -1.0
        assert abs(x) <= ew / 2 and abs(y) <= eh / 2
    check2d.remove(chk)
    assert "dance 2D Check" not in bpy.data.collections


def test_estimate_follows_stride_and_learns() -> None:
    slow = job.estimate_seconds(300, 1, "full", 1920, 1080)
    fast = job.estimate_seconds(300, 10, "full", 1920, 1080)
    assert slow > fast > 0
    assert job.estimate_seconds(300, 10, "lite") < job.estimate_seconds(300, 10, "full")
    saved = dict(job._costs)
    try:
        job.learn({"pose2d": 30 * 0.2}, 300, 30, "/models/pose_landmarker_full.task", 1920, 1080)
        assert job.estimate_seconds(300, 10, "full", 1920, 1080) > fast
    finally:
        job._costs.update(saved)
    assert job.format_seconds(75) == "~1 min 15 s"


class _Layout:
    """Stands in for UILayout: records every property a draw function shows and checks that it exists."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen
        self.use_property_split = self.use_property_decorate = self.enabled = False

    def prop(self, data, name, **kw):
        assert hasattr(data, name), name
        self.seen.append(name)

    def prop_search(self, data, name, search_data, search_name, **kw):
        assert hasattr(data, name) and hasattr(search_data, search_name)
        self.seen.append(name)

    def operator(self, idname, **kw):
        module, name = idname.split(".")
        assert hasattr(getattr(bpy.ops, module), name), idname
        return type("Props", (), {})()

    def label(self, **kw):
        self.seen.append("label:" + kw.get("text", ""))

    def column(self, **kw):
        return self

    row = box = column


def test_panel_and_operator_draw_every_option(scene, videos_dir) -> None:
    settings = scene.uplift_capture
    settings.filepath = str(videos_dir / "02_dance_tfjs_576x576.mp4")
    settings.stride = 10
    seen: list[str] = []
    panel = type("P", (), {"layout": _Layout(seen)})()
    bpy.types.UPLIFT_PT_capture.draw(panel, bpy.context)
    for name in (
        "filepath",
        "stride",
        "pose_model",
        "target_rig",
        "smoothing",
        "root_motion",
        "foot_locking",
        "person",
        "use_frame_range",
        "check_2d",
    ):
        assert name in seen
    estimate = [s for s in seen if s.startswith("label:")][-1]
    assert estimate.startswith("label:120 frames, 12 key-frames: ~")  # probed from the real clip


def test_estimate_text_for_unreadable_or_missing_video(scene, tmp_path) -> None:
    from addon import operators

    settings = scene.uplift_capture
    assert "choose a readable video" in operators.estimate_text(str(tmp_path / "nope.mp4"), settings)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"junk")
    assert "choose a readable video" in operators.estimate_text(str(bad), settings)


def test_preferences_draw_and_offline_install_is_refused(tmp_path) -> None:
    from addon import prefs

    seen: list[str] = []
    fake = type("Prefs", (), {"layout": _Layout(seen), "pose_model_path": "", "device": "AUTO", "wheel_dir": ""})()
    prefs.UPLIFT_AddonPreferences.draw(fake, bpy.context)
    assert {"pose_model_path", "device", "wheel_dir"} <= set(seen)
    assert any(s.startswith("label:torch") for s in seen) and any("Online access is off" in s for s in seen)
    assert bpy.app.online_access is False  # the bpy module runs offline
    with pytest.raises(RuntimeError, match="Online access is off"):
        bpy.ops.uplift.install_dependencies(from_folder=False)
    with pytest.raises(RuntimeError, match="Online access is off"):
        bpy.ops.uplift.download_pose_model(variant="lite")
    assert prefs.pose_model_arg("lite").endswith("pose_landmarker_lite.task")  # $UPLIFT_POSE_MODEL folder
