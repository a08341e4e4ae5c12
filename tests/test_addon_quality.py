"""The quality report in Blender (real bpy): stored on the action and the rig, shown in the sidebar, flagged
ranges as timeline markers (idempotent, undoable, user markers kept), the worst range in the Info report,
and the capture's "Auto" stride reaching the pipeline.

The capture stage is the conftest `mocap_result` (real mocap through a simulated camera) with a report
built from known flags, so each flag's scene frames are known; the last test runs a real auto capture.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

bpy = pytest.importorskip("bpy")
from bpy_helpers import Layout  # noqa: E402

import inference  # noqa: E402
from addon import job, operators, quality_ui  # noqa: E402
from inference.quality import Flag, QualityReport  # noqa: E402
from inference.quality.report import QualityMetrics  # noqa: E402

pytestmark = pytest.mark.usefixtures("blender")

FLAGS = (
    Flag(10, 14, "fast", "2D moved 0.4 body heights between key-frames 10 and 15"),
    Flag(30, 44, "lost", "no person on key-frames 30-40"),  # the worst: longest, heaviest kind
    Flag(60, 60, "cut_off", "left wrist out of frame"),
)


@pytest.fixture()
def reported(mocap_result, monkeypatch):
    """mocap_result with a quality report of known flags, as the capture returns it; records the calls."""
    T = len(mocap_result.joints3d)
    report = QualityReport(
        frames=T,
        frame_start=0,
        fps=mocap_result.fps,
        stride=5,
        keyframes=np.asarray(mocap_result.keyframes),
        detection_rate=16 / 18,
        confidence=np.full(T, 0.9, np.float32),
        flags=FLAGS,
        metrics=QualityMetrics(jitter=12.5, bone_length_std_mm=4.25, foot_slide_mm=float("nan")),
    )
    result = dataclasses.replace(mocap_result, report=report)
    calls: list[dict] = []
    monkeypatch.setattr(inference, "capture", lambda video, **kw: calls.append(kw) or result)
    return report, calls


def capture_onto_new(mocap_result, **kw):
    res = bpy.ops.uplift.capture_video(filepath=mocap_result.source, **kw)
    assert res == {"FINISHED"}
    return bpy.context.view_layer.objects.active


def markers(scene) -> list[tuple[str, int]]:
    return sorted((m.name, m.frame) for m in scene.timeline_markers)


def test_report_is_stored_on_action_and_rig_and_survives_save_reload(scene, reported, mocap_result, tmp_path):
    report, _ = reported
    arm = capture_onto_new(mocap_result)
    action = arm.animation_data.action
    for holder in (arm, action):
        data = json.loads(holder[quality_ui.QUALITY_KEY])
        assert data["detection_rate"] == pytest.approx(16 / 18, abs=1e-4)
        assert data["keyframe_count"] == len(mocap_result.keyframes) == 18
        assert data["effective_stride"] == pytest.approx(90 / 18, abs=1e-3)
        assert data["jitter"] == 12.5 and data["bone_length_std_mm"] == 4.25 and data["foot_slide_mm"] is None
        assert data["flag_count"] == 3 and data["flag_counts"] == {"lost": 1, "fast": 1, "cut_off": 1}
    name, path = arm.name, tmp_path / "take.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
    back = quality_ui.read(bpy.data.objects[name])
    assert back is not None and back["flag_count"] == 3 and back["flags"][1]["kind"] == "lost"


def test_sidebar_shows_the_numbers_and_the_marker_button(scene, reported, mocap_result):
    capture_onto_new(mocap_result)
    seen: list[str] = []
    panel = type("P", (), {"layout": Layout(seen)})()
    bpy.types.UPLIFT_PT_capture.draw(panel, bpy.context)
    labels = [s[len("label:") :] for s in seen if s.startswith("label:")]
    for text in (
        "Person found on 89 % of 18 key-frames",
        "Effective stride 5.0 (stride 5, 1 passes)",
        "Jitter: 12.5 mm/f²",
        "Bone length std: 4.2 mm",
        "Foot slide: n/a",
        "Flagged ranges: 3 (1 lost, 1 fast, 1 cut_off)",
    ):
        assert text in labels, (text, labels)


def test_info_report_names_the_worst_range_in_scene_frames(scene, reported, mocap_result, capfd):
    scene.render.fps = 60  # 2 scene frames per video frame: the named frames follow the keys
    scene.frame_start = 11
    capture_onto_new(mocap_result)
    out = capfd.readouterr().out
    assert "Least trustworthy: lost at frames 71-99 (video frames 30-44): no person on key-frames 30-40" in out
    assert "2 more flagged ranges" in out and "quality: person on 89 %" in out


def test_markers_on_flagged_ranges_idempotent_undoable_and_user_markers_kept(scene, reported, mocap_result):
    arm = capture_onto_new(mocap_result)
    first = scene.frame_start
    scene.timeline_markers.new("my beat", frame=first + 30)
    scene.timeline_markers.new("lost", frame=first + 2)  # the user's own, named like one of ours
    bpy.ops.ed.undo_push(message="before markers")
    assert bpy.ops.uplift.quality_markers("EXEC_DEFAULT", True, rig=arm.name) == {"FINISHED"}
    ours = [
        ("fast", first + 10),
        ("fast end", first + 14),
        ("lost", first + 30),
        ("lost end", first + 44),
        ("cut_off", first + 60),  # one frame long: one marker
    ]
    assert markers(scene) == sorted([*ours, ("my beat", first + 30), ("lost", first + 2)])
    assert bpy.ops.uplift.quality_markers(rig=arm.name) == {"CANCELLED"}  # pressed again: nothing added
    assert len(scene.timeline_markers) == 7
    bpy.ops.ed.undo()
    assert markers(bpy.context.scene) == sorted([("my beat", first + 30), ("lost", first + 2)])


def test_markers_refused_without_a_report(scene):
    arm = bpy.data.objects.new("Bare", bpy.data.armatures.new("Bare"))
    scene.collection.objects.link(arm)
    with pytest.raises(RuntimeError, match="No capture quality report"):
        bpy.ops.uplift.quality_markers(rig=arm.name)
    assert len(scene.timeline_markers) == 0


def test_stride_auto_reaches_the_pipeline_from_operator_and_sidebar(scene, reported, mocap_result):
    _, calls = reported
    capture_onto_new(mocap_result, stride=7, stride_auto=True)
    assert calls[-1]["stride"] == "auto"
    capture_onto_new(mocap_result, stride=7)
    assert calls[-1]["stride"] == 7
    settings = scene.uplift_capture
    settings.stride_auto = True
    assert operators.props.to_options(settings, "clip.mp4").stride == "auto"


def test_estimate_for_auto_gives_a_range(scene, videos_dir):
    settings = scene.uplift_capture
    settings.stride_auto = True
    text = operators.estimate_text(str(videos_dir / "02_dance_tfjs_576x576.mp4"), settings)
    assert text.startswith("120 frames, auto: 5-30 key-frames: ~") and " to ~" in text  # strides 24 .. 4 at 30 fps
    assert job.auto_strides(5.0) == (4, 2) and job.auto_strides(60.0) == (48, 8)


@pytest.mark.slow
def test_real_auto_capture_stores_its_report(scene, videos_dir):
    clip = videos_dir / "01_squats_tfjs_720x1280.mp4"
    assert bpy.ops.uplift.capture_video(filepath=str(clip), stride_auto=True) == {"FINISHED"}
    data = quality_ui.read(bpy.context.view_layer.objects.active)
    assert data is not None and data["stride"] == "auto" and data["passes"] >= 2
    assert data["keyframe_count"] > 65 / 20 and 0.9 <= data["detection_rate"] <= 1.0


def test_failed_write_puts_the_rigs_previous_report_back(scene, reported, mocap_result, monkeypatch):
    arm = capture_onto_new(mocap_result)
    arm[quality_ui.QUALITY_KEY] = previous = '{"flag_count": 0}'
    write = quality_ui.write

    def write_then_fail(holders, data):  # the last step of the write fails after the report went on
        write(holders, data)
        raise inference.UpliftError("disk full")

    monkeypatch.setattr(quality_ui, "write", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig=arm.name)
    assert arm[quality_ui.QUALITY_KEY] == previous
