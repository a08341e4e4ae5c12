"""Shared fixtures. Real data lives in ../shared (never committed); tests fail loudly if it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPLIFT_SHARED", REPO.parent / "shared")).resolve()

if not SHARED.is_dir():
    raise pytest.UsageError(f"shared data not found at {SHARED}; set UPLIFT_SHARED")

# The MediaPipe bundles: tests and CI never download, they point at ../shared/models.
os.environ.setdefault("UPLIFT_POSE_MODEL", str(SHARED / "models"))

VIDEOS = sorted((SHARED / "videos").glob("*.mp4"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def videos_dir() -> Path:
    return SHARED / "videos"


@pytest.fixture(scope="session")
def mocap_dir() -> Path:
    return SHARED / "data" / "mocap"


@pytest.fixture(scope="session")
def pose_models_dir() -> Path:
    return SHARED / "models"


# ---------------------------------------------------------------- Rigify: one generated rig per session


@pytest.fixture(scope="session")
def rigify_blend(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Generate a Rigify rig once per session (several seconds each time) and keep it in a library .blend.

    It is generated in whatever file is open when a test first asks for it, then everything the
    generation added is removed again, so the asking test's scene is left as it was. Tests get their own
    copy from `new_rigify_rig`, so they stay independent of each other.
    """
    import addon_utils
    import bpy

    addon_utils.enable("rigify", default_set=True)
    before = set(bpy.data.user_map())
    if bpy.context.object is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    bpy.ops.object.select_all(action="DESELECT")
    bpy.ops.object.armature_human_metarig_add()
    meta = bpy.context.view_layer.objects.active
    bpy.ops.pose.rigify_generate()
    (rig,) = [o for o in bpy.data.objects if o not in before and o != meta and o.type == "ARMATURE"]
    path = tmp_path_factory.mktemp("rigify") / "rigify_rig.blend"
    bpy.data.libraries.write(str(path), {rig}, compress=False)
    name = rig.name
    bpy.data.batch_remove([i for i in bpy.data.user_map() if i not in before])
    return path, name


def append_rig(path: Path, name: str):
    """Append object `name` (and what it uses: armature, widgets, drivers) from `path` into the current
    scene as a new local copy, and make it the only selected, active object."""
    import bpy

    with bpy.data.libraries.load(str(path), link=False) as (_src, dst):
        dst.objects = [name]
    (obj,) = dst.objects
    scene = bpy.context.scene
    scene.collection.objects.link(obj)
    for other in bpy.context.view_layer.objects:
        other.select_set(False)
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    return obj


@pytest.fixture()
def new_rigify_rig(request: pytest.FixtureRequest):
    """Call it to add a fresh copy of the session's generated Rigify rig to the current scene (generated
    on first use, so tests that never call it never pay for the generation)."""

    def make():
        path, name = request.getfixturevalue("rigify_blend")
        return append_rig(path, name)

    return make


# --- Blender scenes (bpy imported inside: the non-Blender tests never load it) ---------------------------
from bpy_helpers import VIDEO_FPS  # noqa: E402


@pytest.fixture(scope="module")
def blender():
    """Blender (bpy) with Rigify and our add-on registered, for one test module (`usefixtures("blender")`)."""
    import addon_utils
    import bpy

    import addon

    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("rigify", default_set=True)
    addon.register()
    yield
    addon.unregister()


@pytest.fixture()
def scene():
    """An empty scene at the test clip's rate."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = int(VIDEO_FPS), 1.0
    return sc


@pytest.fixture(scope="module")
def mocap_result(mocap_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A walk (CMU, 120 fps -> 30 fps, 3 s) as capture would deliver it: camera joints + 2D every 5th frame."""
    import numpy as np
    from retarget_sim import Camera, load_clip, simulate

    from inference import CaptureResult, CaptureStats, Timings

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
def fake_capture(monkeypatch: pytest.MonkeyPatch, mocap_result):
    """Replace only the video stage: the operator, retarget and keys are the real ones."""
    import inference

    calls = []

    def capture(video, **kw):
        calls.append(kw)
        return mocap_result

    monkeypatch.setattr(inference, "capture", capture)
    return calls
