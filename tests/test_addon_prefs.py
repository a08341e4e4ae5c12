"""The preferences with real bpy: drawing, offline refusals, and where the MediaPipe bundle comes from
(the extension's models folder, handed to inference; a missing bundle refuses the capture up front)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

bpy = pytest.importorskip("bpy")

from bpy_helpers import Layout, ids  # noqa: E402

from addon import prefs  # noqa: E402

pytestmark = pytest.mark.usefixtures("blender")

LITE = "pose_landmarker_lite.task"


def test_preferences_draw_and_offline_install_is_refused(tmp_path) -> None:
    seen: list[str] = []
    fake = type("Prefs", (), {"layout": Layout(seen), "pose_model_path": "", "device": "AUTO", "wheel_dir": ""})()
    prefs.UPLIFT_AddonPreferences.draw(fake, bpy.context)
    assert {"pose_model_path", "device", "wheel_dir"} <= set(seen)
    assert f"label:Downloaded models: {prefs.models_dir()}" in seen
    assert any(s.startswith("label:torch") for s in seen) and any("Online access is off" in s for s in seen)
    assert bpy.app.online_access is False  # the bpy module runs offline
    with pytest.raises(RuntimeError, match="Online access is off"):
        bpy.ops.uplift.install_dependencies(from_folder=False)
    with pytest.raises(RuntimeError, match="Online access is off"):
        bpy.ops.uplift.download_pose_model(variant="lite")
    assert prefs.pose_model_arg("lite").endswith("pose_landmarker_lite.task")  # $UPLIFT_POSE_MODEL folder


def test_the_pose_model_comes_from_the_models_folder(monkeypatch, tmp_path, pose_models_dir) -> None:
    monkeypatch.delenv("UPLIFT_POSE_MODEL", raising=False)
    monkeypatch.setenv("UPLIFT_CACHE_DIR", str(tmp_path / "empty_cache"))
    folder = tmp_path / "models"
    monkeypatch.setattr(prefs, "models_dir", lambda create=False: folder)
    folder.mkdir()
    (folder / LITE).write_bytes((pose_models_dir / LITE).read_bytes())
    assert prefs.pose_model_arg("lite") == str(folder / LITE)
    assert Path(prefs.user_dir("models")).name == "models"  # Blender's folder for the add-on's files


def test_capture_without_a_pose_model_is_refused_before_any_work(
    scene, fake_capture, mocap_result, monkeypatch, tmp_path
) -> None:
    monkeypatch.delenv("UPLIFT_POSE_MODEL", raising=False)
    monkeypatch.setenv("UPLIFT_CACHE_DIR", str(tmp_path / "empty_cache"))
    monkeypatch.setattr(prefs, "models_dir", lambda create=False: tmp_path / "models")
    before = ids()
    with pytest.raises(RuntimeError, match="pose model 'full' not found"):
        bpy.ops.uplift.capture_video(filepath=mocap_result.source)
    assert ids() == before and fake_capture == []


def test_long_jobs_can_be_cancelled_by_blender() -> None:
    """Blender calls `cancel` when it ends a running modal operator (file closed, quit): both long jobs stop."""
    for op in (prefs.UPLIFT_OT_install_dependencies, prefs.UPLIFT_OT_download_pose_model):
        assert "cancel" in vars(op) and "modal" in vars(op) and "invoke" in vars(op)
