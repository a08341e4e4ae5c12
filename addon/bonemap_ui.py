"""The bone map as the user sees it: stored on the armature object, edited in the Mocap tab, kept as presets.

Why on the object: the map belongs to the rig, so it is saved in the .blend with it (and travels when the rig
is appended), and every capture onto that rig uses the same bones. A rig without a stored map keeps the
automatic choice (a fully matching preset, else the name guess; see retarget/bonemap.py).

Stored form: one entry per (segment, bone); a chain (bones that turn as one, e.g. Rigify's chest) is several
entries of the same segment in order. Entries with an empty bone are placeholders the panel shows as rows.
Only the operators here (Guess, Load, Clear, add/remove a chain bone) and the user's own edits change it;
a capture only reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, IntProperty, StringProperty

from . import prefs
from ._pkgs import bonemap


def bonemap_lib() -> Any:
    """retarget.bonemap (pure Python)."""
    return bonemap


def user_preset_dir(create: bool = True) -> Path:
    """Folder of the user's presets: the extension's user folder (kept across updates), else Blender's config
    folder when the add-on runs from a checkout (the package is then not an extension)."""
    try:
        return Path(bpy.utils.extension_path_user(prefs.PACKAGE, path="bonemap_presets", create=create))
    except ValueError:
        return Path(bpy.utils.user_resource("CONFIG", path="uplift_mocap/bonemap_presets", create=create))


# ---------------------------------------------------------------- stored map <-> plain bone map


def _on_edit(self: Any, context: Any) -> None:
    group = getattr(self.id_data, "uplift_bonemap", None)
    if group is not None and not group.edited:
        group.edited = True


class UPLIFT_BoneMapEntry(bpy.types.PropertyGroup):
    """One bone of one segment (a segment with a chain has several entries, in chain order)."""

    segment: StringProperty(name="Segment")  # type: ignore[valid-type]
    bone: StringProperty(
        name="Bone", description="Bone of the target rig that follows this body segment", update=_on_edit
    )  # type: ignore[valid-type]


class UPLIFT_BoneMap(bpy.types.PropertyGroup):
    """The rig's bone map plus where it came from and the preset's constant keys (e.g. Rigify IK/FK = FK)."""

    entries: CollectionProperty(type=UPLIFT_BoneMapEntry)  # type: ignore[valid-type]
    source: StringProperty(name="Source")  # type: ignore[valid-type]
    edited: BoolProperty(name="Edited")  # type: ignore[valid-type]
    constants: StringProperty(name="Constants", description="JSON: F-curve data path -> value", options={"HIDDEN"})  # type: ignore[valid-type]


def stored_map(obj: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """(bone map, constants) stored on `obj`; ({}, {}) when none is set. Chains come back as lists."""
    group = getattr(obj, "uplift_bonemap", None)
    if group is None:
        return {}, {}
    chains: dict[str, list[str]] = {}
    for e in group.entries:
        if e.bone:
            chains.setdefault(e.segment, []).append(e.bone)
    if not chains:
        return {}, {}
    try:
        constants = {str(k): float(v) for k, v in json.loads(group.constants or "{}").items()}
    except (ValueError, TypeError, AttributeError):
        constants = {}
    return {s: (c[0] if len(c) == 1 else c) for s, c in chains.items()}, constants


def store_map(obj: Any, bmap: dict[str, Any], constants: dict[str, float] | None, source: str) -> None:
    """Replace the stored map: one row per segment (empty bone if unmapped), chain bones as extra rows."""
    group = obj.uplift_bonemap
    group.entries.clear()
    for seg in bonemap_lib().SEGMENT_NAMES:
        v = bmap.get(seg)
        for bone in [v] if isinstance(v, str) else list(v or [""]):
            e = group.entries.add()
            e.segment, e.bone = seg, bone
    group.constants = json.dumps(dict(constants or {}), sort_keys=True)
    group.source = source
    group.edited = False


def _names_parents(obj: Any) -> tuple[list[str], list[int]]:
    bones = obj.data.bones
    names = [b.name for b in bones]
    index = {n: i for i, n in enumerate(names)}
    return names, [index[b.parent.name] if b.parent else -1 for b in bones]


def presets() -> tuple[dict[str, Any], list[str]]:
    """Built-in + user presets by name, and messages for user files that could not be read (skipped)."""
    bm = bonemap_lib()
    d = user_preset_dir(create=False)
    try:
        return bm.list_presets(d), []
    except ValueError:  # one broken user file must not hide the others
        out, bad = bm.list_presets(None), []
        for f in sorted(d.glob("*.json")):
            try:
                p = bm.load_preset(f)
                out[p.name] = p
            except ValueError as exc:
                bad.append(str(exc))
        return out, bad


def auto_map(names: list[str], parents: list[int]) -> tuple[str, dict[str, Any], dict[str, float], list[str]]:
    """What a rig without a stored map gets: `bonemap_for` over built-in + user presets, else the guess."""
    bm = bonemap_lib()
    try:
        return (*bm.bonemap_for(names, parents, user_preset_dir(create=False)), [])
    except ValueError as exc:
        return (*bm.bonemap_for(names, parents, None), [f"User bone-map presets skipped: {exc}"])


# ---------------------------------------------------------------- preset selector (window manager, not saved)

_ITEMS: dict[str, Any] = {"key": None, "items": [("NONE", "No presets", "")]}  # keeps enum strings alive


def _preset_items(self: Any, context: Any) -> list[tuple[str, str, str]]:
    d = user_preset_dir(create=False)
    try:
        key = (str(d), tuple(sorted((f.name, f.stat().st_mtime_ns) for f in d.glob("*.json"))))
    except OSError:
        key = (str(d), ())
    if key != _ITEMS["key"]:
        found, _bad = presets()
        _ITEMS["items"] = [
            (n, n, (p.description or n) + (" (built-in)" if p.builtin else " (user preset)")) for n, p in found.items()
        ] or [("NONE", "No presets", "")]
        _ITEMS["key"] = key
    return _ITEMS["items"]


# ---------------------------------------------------------------- operators


def target_rig(context: Any, name: str = "") -> Any | None:
    """The armature the operator works on: `name`, else the Mocap tab's Target Rig."""
    name = name or context.scene.uplift_capture.target_rig
    obj = context.scene.objects.get(name) if name else None
    return obj if obj is not None and obj.type == "ARMATURE" else None


class _RigOperator:
    rig: StringProperty(
        name="Rig", description="Armature object (empty: the Mocap tab's Target Rig)", options={"SKIP_SAVE"}
    )  # type: ignore[valid-type]

    def target(self, context: Any) -> Any | None:
        """The rig, or None after reporting why it cannot be edited."""
        obj = target_rig(context, self.rig)
        if obj is None:
            self.report(
                {"ERROR"},
                f"'{self.rig or context.scene.uplift_capture.target_rig}' is not an armature "
                f"in this scene; choose a Target Rig first.",
            )
        elif obj.library is not None:
            self.report({"ERROR"}, f"'{obj.name}' is linked from a library; make it local to store a bone map.")
            return None
        return obj


def _missing(bmap: dict[str, Any]) -> str:
    """Body segments left unmapped by name; finger slots (optional) only as a count."""
    lib = bonemap_lib()
    gone = [s for s in lib.BODY_SEGMENT_NAMES if s not in bmap]
    n = sum(s in bmap for s in lib.FINGER_SEGMENTS)
    fingers = f"; {n} of {len(lib.FINGER_SEGMENTS)} finger bones" if n else "; no finger bones"
    return fingers + (f" (not mapped: {', '.join(gone)})" if gone else "")


class UPLIFT_OT_bonemap_guess(_RigOperator, bpy.types.Operator):
    """Fill the rig's bone map from a preset that fully matches its bones, else a guess from the bone names"""

    bl_idname = "uplift.bonemap_guess"
    bl_label = "Guess Bone Map"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: Any) -> set[str]:
        obj = self.target(context)
        if obj is None:
            return {"CANCELLED"}
        source, bmap, constants, warnings = auto_map(*_names_parents(obj))
        if not bmap:
            self.report({"ERROR"}, f"No humanoid bones recognised in '{obj.name}'; map them by hand or load a preset.")
            return {"CANCELLED"}
        store_map(obj, bmap, constants, source)
        for w in warnings:
            self.report({"WARNING"}, w)
        how = "guessed from bone names" if source == "guessed from bone names" else f"from preset '{source}'"
        n = len(bonemap_lib().BODY_SEGMENT_NAMES)
        body = sum(s in bmap for s in bonemap_lib().BODY_SEGMENT_NAMES)
        self.report({"INFO"}, f"Bone map of '{obj.name}' {how}: {body} of {n} segments{_missing(bmap)}")
        return {"FINISHED"}


class UPLIFT_OT_bonemap_clear(_RigOperator, bpy.types.Operator):
    """Empty every row of the rig's bone map (captures then choose a preset or guess until bones are set)"""

    bl_idname = "uplift.bonemap_clear"
    bl_label = "Clear Bone Map"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: Any) -> set[str]:
        obj = self.target(context)
        if obj is None:
            return {"CANCELLED"}
        store_map(obj, {}, {}, "")
        self.report(
            {"INFO"},
            f"Bone map of '{obj.name}' cleared: captures use a matching preset or the name guess until bones are set",
        )
        return {"FINISHED"}


class UPLIFT_OT_bonemap_load(_RigOperator, bpy.types.Operator):
    """Set the rig's bone map from a preset (bones the rig lacks are left unmapped)"""

    bl_idname = "uplift.bonemap_load"
    bl_label = "Load Bone-Map Preset"
    bl_options = {"REGISTER", "UNDO"}

    preset: StringProperty(
        name="Preset", description="Preset name (empty: the one chosen in the panel)", options={"SKIP_SAVE"}
    )  # type: ignore[valid-type]

    def execute(self, context: Any) -> set[str]:
        obj = self.target(context)
        if obj is None:
            return {"CANCELLED"}
        name = self.preset or context.window_manager.uplift_bonemap_preset
        found, bad = presets()
        for msg in bad:
            self.report({"WARNING"}, msg)
        p = found.get(name)
        if p is None:
            self.report({"ERROR"}, f"No bone-map preset named '{name}'.")
            return {"CANCELLED"}
        bmap = bonemap_lib().resolve(p.bonemap, _names_parents(obj)[0])
        if not bmap:
            self.report({"ERROR"}, f"None of the bones of preset '{name}' exist in '{obj.name}'; nothing changed.")
            return {"CANCELLED"}
        store_map(obj, bmap, p.constants, p.name)
        lost = [s for s in p.bonemap if s not in bmap and s not in bonemap_lib().OPTIONAL_SEGMENTS]
        if lost:
            self.report(
                {"WARNING"},
                f"Preset '{name}': bones for {', '.join(lost)} are not in '{obj.name}'; "
                f"those segments are left unmapped.",
            )
        self.report({"INFO"}, f"Bone map of '{obj.name}' loaded from preset '{name}': {len(bmap)} segments")
        return {"FINISHED"}


class UPLIFT_OT_bonemap_save_preset(_RigOperator, bpy.types.Operator):
    """Save the rig's bone map as a preset (a JSON file in the add-on's user folder) for other rigs"""

    bl_idname = "uplift.bonemap_save_preset"
    bl_label = "Save Bone-Map Preset"
    bl_options = {"REGISTER"}

    preset_name: StringProperty(name="Name", description="Preset name")  # type: ignore[valid-type]
    overwrite: BoolProperty(
        name="Replace Existing", default=False, options={"SKIP_SAVE"}, description="Replace a preset of the same name"
    )  # type: ignore[valid-type]

    def invoke(self, context: Any, event: Any) -> set[str]:
        obj = target_rig(context, self.rig)
        if not self.preset_name and obj is not None:
            self.preset_name = obj.name
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context: Any) -> set[str]:
        obj = self.target(context)
        if obj is None:
            return {"CANCELLED"}
        name = self.preset_name.strip()
        bmap, constants = stored_map(obj)
        if not name:
            self.report({"ERROR"}, "Give the preset a name.")
            return {"CANCELLED"}
        if not bmap:
            self.report({"ERROR"}, f"'{obj.name}' has no bone map to save: press Guess or set bones first.")
            return {"CANCELLED"}
        existing = presets()[0].get(name)
        if existing is not None and not self.overwrite:
            kind = "built-in preset" if existing.builtin else "preset"
            self.report(
                {"ERROR"}, f"A {kind} named '{name}' already exists; choose another name or tick Replace Existing."
            )
            return {"CANCELLED"}
        group = obj.uplift_bonemap
        desc = f"Saved from '{obj.name}'" + (f" (started from {group.source})" if group.source else "")
        try:
            path = bonemap_lib().save_preset(
                user_preset_dir(create=True), name, bmap, desc, constants, overwrite=self.overwrite
            )
        except FileExistsError as exc:
            self.report({"ERROR"}, f"{exc}; choose another name or tick Replace Existing.")
            return {"CANCELLED"}
        except (ValueError, OSError) as exc:
            self.report({"ERROR"}, f"Could not save the preset: {exc}")
            return {"CANCELLED"}
        _ITEMS["key"] = None
        context.window_manager.uplift_bonemap_preset = name
        self.report({"INFO"}, f"Bone-map preset '{name}' saved to {path}")
        return {"FINISHED"}


class UPLIFT_OT_bonemap_add_bone(_RigOperator, bpy.types.Operator):
    """Add a bone to this segment (several bones turn as one chain, e.g. two chest bones)"""

    bl_idname = "uplift.bonemap_add_bone"
    bl_label = "Add Chain Bone"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    segment: StringProperty(name="Segment")  # type: ignore[valid-type]

    def execute(self, context: Any) -> set[str]:
        obj = self.target(context)
        if obj is None:
            return {"CANCELLED"}
        if self.segment not in bonemap_lib().SEGMENT_NAMES:
            self.report({"ERROR"}, f"Unknown segment '{self.segment}'.")
            return {"CANCELLED"}
        entries = obj.uplift_bonemap.entries
        last = max((i for i, e in enumerate(entries) if e.segment == self.segment), default=len(entries) - 1)
        entries.add().segment = self.segment
        entries.move(len(entries) - 1, last + 1)
        return {"FINISHED"}


class UPLIFT_OT_bonemap_remove_bone(_RigOperator, bpy.types.Operator):
    """Remove this bone from the segment's chain"""

    bl_idname = "uplift.bonemap_remove_bone"
    bl_label = "Remove Chain Bone"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    index: IntProperty(name="Index", min=0)  # type: ignore[valid-type]

    def execute(self, context: Any) -> set[str]:
        obj = self.target(context)
        if obj is None:
            return {"CANCELLED"}
        entries = obj.uplift_bonemap.entries
        if self.index >= len(entries):
            return {"CANCELLED"}
        entries.remove(self.index)
        obj.uplift_bonemap.edited = True
        return {"FINISHED"}


CLASSES = (
    UPLIFT_BoneMapEntry,
    UPLIFT_BoneMap,
    UPLIFT_OT_bonemap_guess,
    UPLIFT_OT_bonemap_clear,
    UPLIFT_OT_bonemap_load,
    UPLIFT_OT_bonemap_save_preset,
    UPLIFT_OT_bonemap_add_bone,
    UPLIFT_OT_bonemap_remove_bone,
)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Object.uplift_bonemap = bpy.props.PointerProperty(type=UPLIFT_BoneMap)
    bpy.types.WindowManager.uplift_bonemap_preset = EnumProperty(
        name="Preset", description="Bone-map preset to load (built-in and your saved ones)", items=_preset_items
    )


def unregister() -> None:
    del bpy.types.WindowManager.uplift_bonemap_preset
    del bpy.types.Object.uplift_bonemap
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    _ITEMS["key"] = None
