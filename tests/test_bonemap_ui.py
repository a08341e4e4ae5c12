"""The bone map stored on a rig, with real bpy: Guess / Clear / Load / Save Preset, the panel, and captures
that use the stored (edited) map. Captures are fed with real motion capture (test_addon's fixtures)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

bpy = pytest.importorskip("bpy")

from bpy_helpers import VIDEO_FPS, ids  # noqa: E402

import addon  # noqa: E402
from addon import apply, bonemap_ui, job  # noqa: E402
from retarget import bonemap, segments  # noqa: E402

pytestmark = pytest.mark.usefixtures("blender")

SEGS = bonemap.SEGMENT_NAMES


@pytest.fixture(autouse=True)
def preset_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """User presets go to a temporary folder, never to the real Blender config."""
    d = tmp_path / "bonemap_presets"

    def user_preset_dir(create: bool = True) -> Path:
        if create:
            d.mkdir(parents=True, exist_ok=True)
        return d

    monkeypatch.setattr(bonemap_ui, "user_preset_dir", user_preset_dir)
    bonemap_ui._ITEMS["key"] = None
    yield d
    bonemap_ui._ITEMS["key"] = None


def _timing(sc) -> None:
    sc.render.fps, sc.render.fps_base = int(VIDEO_FPS), 1.0


@pytest.fixture()
def rigify(scene, new_rigify_rig):
    """A fresh copy of the session's generated Rigify rig (conftest) in an empty scene."""
    return new_rigify_rig()


def default_rig(mocap_result, name: str = "Body"):
    """The armature the add-on builds (bones named after the segments), as a target rig."""
    from retarget import bpy_keys

    return bpy_keys.build_default_armature(name, segments.bone_lengths(mocap_result.joints3d))


@pytest.fixture()
def scene():
    bpy.ops.wm.read_homefile(use_empty=True)
    _timing(bpy.context.scene)
    return bpy.context.scene


def entries(obj) -> list[tuple[str, str]]:
    return [(e.segment, e.bone) for e in obj.uplift_bonemap.entries]


def bone_of(obj, segment: str) -> list[str]:
    return [e.bone for e in obj.uplift_bonemap.entries if e.segment == segment]


def set_bone(obj, segment: str, bone: str) -> None:
    next(e for e in obj.uplift_bonemap.entries if e.segment == segment).bone = bone


def key_counts(obj) -> dict[str, int]:
    """bone -> most keys on any of its rotation/location F-curves in the rig's current action."""
    out: dict[str, int] = {}
    for fc in apply.check2d._fcurves(obj.animation_data):
        if fc.data_path.startswith("pose.bones[") and fc.data_path.rsplit(".", 1)[-1] in (
            "rotation_quaternion",
            "rotation_euler",
            "rotation_axis_angle",
            "location",
        ):
            bone = fc.data_path.split('"')[1]
            out[bone] = max(out.get(bone, 0), len(fc.keyframe_points))
    return out


def capture(obj, mocap_result) -> apply.Applied:
    """The operator's write step, returning what it did (warnings, bone-map source)."""
    return apply.apply_capture(
        bpy.context, mocap_result, job.CaptureOptions(video=mocap_result.source, target=obj.name)
    )


# ---------------------------------------------------------------------------------------------------------


def test_register_and_unregister_the_bonemap_properties() -> None:
    assert hasattr(bpy.types.Object, "uplift_bonemap") and hasattr(bpy.types, "UPLIFT_PT_bonemap")
    assert hasattr(bpy.types.WindowManager, "uplift_bonemap_preset")
    assert bpy.types.UPLIFT_PT_bonemap.bl_parent_id == "UPLIFT_PT_capture"
    addon.unregister()
    try:
        assert not hasattr(bpy.types.Object, "uplift_bonemap")
        assert not hasattr(bpy.types.WindowManager, "uplift_bonemap_preset")
        assert not hasattr(bpy.types, "UPLIFT_OT_bonemap_guess") and not hasattr(bpy.types, "UPLIFT_PT_bonemap")
    finally:
        addon.register()


def test_guess_on_rigify_uses_the_preset_and_reports_it(rigify, capfd) -> None:
    assert entries(rigify) == []
    assert bpy.ops.uplift.bonemap_guess(rig=rigify.name) == {"FINISHED"}
    assert bone_of(rigify, "thigh.L") == ["thigh_fk.L"] and bone_of(rigify, "foot.L") == ["foot_fk.L"]
    assert bone_of(rigify, "forearm.R") == ["forearm_fk.R"]
    assert bone_of(rigify, "chest") == ["spine_fk.002", "spine_fk.003"]  # a chain: two rows of one segment
    assert {s for s, _ in entries(rigify)} == set(SEGS)
    group = rigify.uplift_bonemap
    assert group.source == "Rigify generated rig" and not group.edited
    assert json.loads(group.constants)['pose.bones["thigh_parent.L"]["IK_FK"]'] == 1.0
    assert "from preset 'Rigify generated rig': 17 of 17 segments; 30 of 30 finger bones" in capfd.readouterr().out


def test_guess_from_names_when_no_preset_matches(scene, mocap_result, capfd) -> None:
    rig = default_rig(mocap_result)
    for b in rig.data.bones:  # e.g. 3ds Max style names: no preset matches, the guess still does
        b.name = "Bip01 " + b.name
    assert bpy.ops.uplift.bonemap_guess(rig=rig.name) == {"FINISHED"}
    assert rig.uplift_bonemap.source == "guessed from bone names"
    assert bone_of(rig, "thigh.L") == ["Bip01 thigh.L"] and bone_of(rig, "head") == ["Bip01 head"]
    assert bone_of(rig, "foot.L") == ["Bip01 foot.L"]  # the default armature has feet (foot pitch)
    out = capfd.readouterr().out
    assert "guessed from bone names: 17 of 17 segments" in out and "not mapped" not in out


def test_capture_uses_the_edited_map_and_leaves_it_alone(rigify, mocap_result, fake_capture) -> None:
    bpy.ops.uplift.bonemap_guess(rig=rigify.name)
    first = capture(rigify, mocap_result)
    assert first.bonemap_source == apply.STORED_SOURCE and first.warnings == []
    keys = key_counts(rigify)
    assert keys["neck"] == keys["head"] == 90
    set_bone(rigify, "neck", "")  # the neck follows nothing now
    set_bone(rigify, "head", "neck")  # and the head's motion goes onto the neck bone
    assert rigify.uplift_bonemap.edited
    stored = entries(rigify)
    res = bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig=rigify.name)
    assert res == {"FINISHED"}
    keys = key_counts(rigify)
    assert keys.get("head", 0) <= 1 and keys["neck"] == 90  # head: at most a rest key
    assert keys["thigh_fk.L"] == 90 and keys["foot_fk.L"] == 90
    assert entries(rigify) == stored  # the capture only read the map
    assert rigify.animation_data.action.name == "walk_take.001"


def test_capture_without_stored_map_keeps_the_automatic_choice(rigify, mocap_result, fake_capture) -> None:
    applied = capture(rigify, mocap_result)
    assert applied.bonemap_source == "Rigify generated rig"
    assert entries(rigify) == []  # nothing stored by a capture
    bpy.ops.uplift.bonemap_guess(rig=rigify.name)
    bpy.ops.uplift.bonemap_clear(rig=rigify.name)
    assert {s for s, _ in entries(rigify)} == set(SEGS) and all(not b for _, b in entries(rigify))
    assert bonemap_ui.stored_map(rigify) == ({}, {})
    assert capture(rigify, mocap_result).bonemap_source == "Rigify generated rig"


def test_missing_bone_in_stored_map_warns_instead_of_failing(scene, mocap_result, fake_capture) -> None:
    rig = default_rig(mocap_result)
    bpy.ops.uplift.bonemap_guess(rig=rig.name)
    rig.data.bones["head"].name = "skull"  # renamed after the map was made
    applied = capture(rig, mocap_result)
    assert applied.bonemap_source == apply.STORED_SOURCE
    assert len(applied.warnings) == 1 and "head -> 'head' is not a bone of 'Body'" in applied.warnings[0]
    keys = key_counts(rig)
    assert keys.get("skull", 0) <= 1 and keys["neck"] == 90 and keys["thigh.L"] == 90
    assert bone_of(rig, "head") == ["head"]
    # the operator reports the warning and finishes
    assert bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig=rig.name) == {"FINISHED"}


def test_invalid_stored_map_is_refused_and_nothing_changes(scene, mocap_result, fake_capture) -> None:
    rig = default_rig(mocap_result)
    bpy.ops.uplift.bonemap_guess(rig=rig.name)
    set_bone(rig, "head", "neck")  # neck is now used twice
    before = ids()
    with pytest.raises(RuntimeError, match="stored on 'Body' is invalid: bones mapped to more than one"):
        bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig=rig.name)
    assert ids() == before and rig.animation_data is None
    set_bone(rig, "head", "head")
    set_bone(rig, "hips", "")
    with pytest.raises(RuntimeError, match="has no hips or no thigh"):
        bpy.ops.uplift.capture_video(filepath=mocap_result.source, target_rig=rig.name)
    assert ids() == before


def test_capture_is_one_undo_step_and_the_map_survives_undo(scene, mocap_result, fake_capture) -> None:
    rig = default_rig(mocap_result)
    bpy.ops.ed.undo_push(message="rig")
    assert bpy.ops.uplift.bonemap_guess("EXEC_DEFAULT", True, rig=rig.name) == {"FINISHED"}
    before = ids()
    assert bpy.ops.uplift.capture_video("EXEC_DEFAULT", True, filepath=mocap_result.source, target_rig=rig.name) == {
        "FINISHED"
    }
    assert ids() != before
    bpy.ops.ed.undo()
    rig = bpy.data.objects["Body"]
    assert ids() == before and rig.animation_data is None
    assert bone_of(rig, "thigh.L") == ["thigh.L"]  # the guessed map is still there
    bpy.ops.ed.undo()  # and Guess was its own step
    assert entries(bpy.data.objects["Body"]) == []


def test_save_preset_refuses_duplicates_and_load_restores_it(scene, mocap_result, preset_dir, capfd) -> None:
    a, b = default_rig(mocap_result, "A"), default_rig(mocap_result, "B")
    with pytest.raises(RuntimeError, match="no bone map to save"):
        bpy.ops.uplift.bonemap_save_preset(rig=a.name, preset_name="Empty")
    bpy.ops.uplift.bonemap_guess(rig=a.name)
    set_bone(a, "neck", "")
    bpy.ops.uplift.bonemap_add_bone(rig=a.name, segment="spine")  # a chain: spine + chest turn as one
    set_bone(a, "chest", "")
    next(e for e in a.uplift_bonemap.entries if e.segment == "spine" and not e.bone).bone = "chest"
    assert bone_of(a, "spine") == ["spine", "chest"] and bone_of(a, "chest") == [""]
    assert bpy.ops.uplift.bonemap_save_preset(rig=a.name, preset_name="My Rig") == {"FINISHED"}
    data = json.loads((preset_dir / "My_Rig.json").read_text())
    assert data["name"] == "My Rig" and data["bonemap"]["spine"] == ["spine", "chest"]
    assert "neck" not in data["bonemap"] and "chest" not in data["bonemap"]
    assert bpy.context.window_manager.uplift_bonemap_preset == "My Rig"
    with pytest.raises(RuntimeError, match="named 'My Rig' already exists"):
        bpy.ops.uplift.bonemap_save_preset(rig=a.name, preset_name="My Rig")
    with pytest.raises(RuntimeError, match="built-in preset named 'Mixamo' already exists"):
        bpy.ops.uplift.bonemap_save_preset(rig=a.name, preset_name="Mixamo")
    assert sorted(p.name for p in preset_dir.iterdir()) == ["My_Rig.json"]
    assert bpy.ops.uplift.bonemap_save_preset(rig=a.name, preset_name="My Rig", overwrite=True) == {"FINISHED"}

    assert entries(b) == []
    assert bpy.ops.uplift.bonemap_load(rig=b.name, preset="My Rig") == {"FINISHED"}
    assert entries(b) == [(s, n) for s, n in entries(a)]
    assert b.uplift_bonemap.source == "My Rig"
    assert bonemap_ui.stored_map(b) == bonemap_ui.stored_map(a)
    with pytest.raises(RuntimeError, match="No bone-map preset named 'Nope'"):
        bpy.ops.uplift.bonemap_load(rig=b.name, preset="Nope")
    capfd.readouterr()
    # A preset for another rig type: nothing matches -> refused, the map is unchanged.
    with pytest.raises(RuntimeError, match="None of the bones of preset 'Mixamo'"):
        bpy.ops.uplift.bonemap_load(rig=b.name, preset="Mixamo")
    assert bonemap_ui.stored_map(b) == bonemap_ui.stored_map(a)


def test_load_preset_with_missing_bones_warns_and_a_broken_user_file_is_skipped(
    scene, mocap_result, preset_dir, capfd
) -> None:
    rig = default_rig(mocap_result)
    bpy.data.objects["Body"].data.bones["neck"].name = "collar_gone"
    preset_dir.mkdir()
    (preset_dir / "broken.json").write_text("{not json")
    bpy.context.window_manager.uplift_bonemap_preset = "Uplift default"
    assert bpy.ops.uplift.bonemap_load(rig=rig.name) == {"FINISHED"}  # the panel's selection
    assert bone_of(rig, "neck") == [""] and bone_of(rig, "head") == ["head"]
    out = capfd.readouterr().out
    assert "bones for neck are not in 'Body'" in out and "broken.json" in out


def test_user_preset_is_matched_for_rigs_without_a_stored_map(scene, mocap_result) -> None:
    rig = default_rig(mocap_result)
    for bone in rig.data.bones:
        bone.name = "zz_" + bone.name  # no built-in preset and no guess fits these names
    assert bonemap_ui.auto_map(*bonemap_ui._names_parents(rig))[1] == {}
    names = {b.name[3:]: b.name for b in rig.data.bones}
    bonemap.save_preset(bonemap_ui.user_preset_dir(), "zz rig", {s: names[s] for s in SEGS if s in names})
    source, bmap, _c, warnings = bonemap_ui.auto_map(*bonemap_ui._names_parents(rig))
    assert source == "zz rig" and bmap["thigh.L"] == "zz_thigh.L" and warnings == []


class _Layout:
    """Stands in for UILayout: records what a draw function shows and checks that it exists."""

    def __init__(self, seen: list) -> None:
        self.seen = seen
        self.use_property_split = self.use_property_decorate = self.enabled = False

    def prop(self, data, name, **kw):
        assert hasattr(data, name), name
        self.seen.append(("prop", name, kw.get("text")))

    def prop_search(self, data, name, search_data, search_name, **kw):
        assert hasattr(data, name) and hasattr(search_data, search_name)
        self.seen.append(("search", kw.get("text"), getattr(data, name), kw.get("icon")))

    def operator(self, idname, **kw):
        module, name = idname.split(".")
        assert hasattr(getattr(bpy.ops, module), name), idname
        self.seen.append(("op", idname))
        return type("Props", (), {})()

    def label(self, **kw):
        self.seen.append(("label", kw.get("text", "")))

    def column(self, **kw):
        return self

    row = box = column


def test_bone_map_panel_shows_one_search_per_segment(rigify) -> None:
    panel_cls = bpy.types.UPLIFT_PT_bonemap
    settings = bpy.context.scene.uplift_capture
    settings.target_rig = ""
    assert not panel_cls.poll(bpy.context)
    settings.target_rig = rigify.name
    assert panel_cls.poll(bpy.context)

    def draw() -> list:
        seen: list = []
        panel_cls.draw(type("P", (), {"layout": _Layout(seen)})(), bpy.context)
        return seen

    seen = draw()  # nothing stored yet: the buttons and a hint
    ops = {s[1] for s in seen if s[0] == "op"}
    assert {"uplift.bonemap_guess", "uplift.bonemap_clear", "uplift.bonemap_load", "uplift.bonemap_save_preset"} <= ops
    assert ("prop", "uplift_bonemap_preset", "") in seen
    assert any(s[0] == "label" and "No bone map stored" in s[1] for s in seen)
    assert not any(s[0] == "search" for s in seen)

    bpy.ops.uplift.bonemap_guess(rig=rigify.name)
    set_bone(rigify, "head", "gone")
    seen = draw()
    searches = [s for s in seen if s[0] == "search"]
    assert [s[1] for s in searches if s[1]] == list(SEGS)  # one labelled row per segment, in order
    assert len(searches) == len(SEGS) + 2  # + the second bones of the hips and chest chains
    assert ("search", "thigh.L", "thigh_fk.L", "BONE_DATA") in searches
    assert ("search", "head", "gone", "ERROR") in searches
    assert ("label", "From: Rigify generated rig (edited)") in seen
    assert any(s[0] == "label" and s[1].startswith("Fingers") for s in seen)
    assert any(s == ("op", "uplift.bonemap_remove_bone") for s in seen)


def test_chain_rows_can_be_added_and_removed(scene, mocap_result) -> None:
    rig = default_rig(mocap_result)
    bpy.ops.uplift.bonemap_guess(rig=rig.name)
    n = len(rig.uplift_bonemap.entries)
    bpy.ops.uplift.bonemap_add_bone(rig=rig.name, segment="hips")
    assert [s for s, _ in entries(rig)][:2] == ["hips", "hips"] and len(rig.uplift_bonemap.entries) == n + 1
    assert bonemap_ui.stored_map(rig)[0]["hips"] == "hips"  # an empty chain row adds nothing
    bpy.ops.uplift.bonemap_remove_bone(rig=rig.name, index=1)
    assert len(rig.uplift_bonemap.entries) == n and entries(rig)[1][0] == "spine"
    with pytest.raises(RuntimeError, match="Unknown segment"):
        bpy.ops.uplift.bonemap_add_bone(rig=rig.name, segment="tail")
    with pytest.raises(RuntimeError, match="not an armature"):
        bpy.ops.uplift.bonemap_guess(rig="Nope")


def test_stored_map_is_saved_in_the_blend(scene, mocap_result, tmp_path) -> None:
    rig = default_rig(mocap_result)
    bpy.ops.uplift.bonemap_guess(rig=rig.name)
    set_bone(rig, "neck", "")
    stored = entries(rig)
    path = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
    assert entries(bpy.data.objects["Body"]) == stored
    assert bpy.data.objects["Body"].uplift_bonemap.edited


def test_save_preset_asks_for_a_name_starting_from_the_rig_name(scene, mocap_result) -> None:
    from types import SimpleNamespace

    rig = default_rig(mocap_result)
    asked = []
    wm = SimpleNamespace(invoke_props_dialog=lambda op: asked.append(op) or {"RUNNING_MODAL"})
    op = SimpleNamespace(rig=rig.name, preset_name="")
    ctx = SimpleNamespace(scene=bpy.context.scene, window_manager=wm)
    assert bonemap_ui.UPLIFT_OT_bonemap_save_preset.invoke(op, ctx, None) == {"RUNNING_MODAL"}
    assert asked == [op] and op.preset_name == "Body"
