"""3D viewport sidebar (N panel, "Mocap" tab): the capture options kept per scene, an estimate and the button;
below it the Target Rig's bone map (operators and storage in bonemap_ui.py)."""

from typing import Any

import bpy

from . import bonemap_ui as bm
from . import operators, props, quality_ui


class UpliftSettings(bpy.types.PropertyGroup):
    """The sidebar's capture options, saved with the scene so the next capture starts from the last choice."""

    filepath: bpy.props.StringProperty(name="Video", subtype="FILE_PATH")  # type: ignore[valid-type]
    __annotations__.update(props.capture_props())


class UPLIFT_PT_capture(bpy.types.Panel):
    bl_label = "Video Motion Capture"
    bl_idname = "UPLIFT_PT_capture"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Mocap"

    def draw(self, context: Any) -> None:
        settings = context.scene.uplift_capture
        layout = self.layout
        layout.prop(settings, "filepath", text="")
        props.draw_options(layout, settings, context)
        row = layout.row()
        row.label(text=operators.estimate_text(settings.filepath, settings), icon="TIME")
        row.operator("uplift.estimate_refresh", text="", icon="FILE_REFRESH")
        op = layout.operator(operators.UPLIFT_OT_capture_video.bl_idname, text="Capture", icon="ARMATURE_DATA")
        op.filepath = settings.filepath
        for name in props.OPTION_NAMES:
            setattr(op, name, getattr(settings, name))
        obj = captured_object(context)
        draw_camera(layout, obj)
        quality_ui.draw(layout, obj)


def captured_object(context: Any) -> Any | None:
    """The armature whose last capture the sidebar describes: the Target Rig, else the active armature."""
    obj = context.scene.objects.get(context.scene.uplift_capture.target_rig) or context.view_layer.objects.active
    return obj if obj is not None and obj.type == "ARMATURE" and "uplift_camera_pitch" in obj else None


def draw_camera(layout: Any, obj: Any | None) -> None:
    """The camera tilt the last capture onto `obj` found or was given (custom properties set by apply.py)."""
    if obj is None:
        return
    box = layout.box()
    box.label(text=f"Camera of the last capture onto {obj.name}:", icon="CAMERA_DATA")
    box.label(text=f"Pitch {obj['uplift_camera_pitch']:+.1f}°, roll {obj['uplift_camera_roll']:+.1f}°")
    method = str(obj.get("uplift_camera_method", ""))
    if method in ("override", "assumed level"):
        box.label(text="Set by you" if method == "override" else "Assumed level")
        return
    conf = float(obj.get("uplift_camera_confidence", 0.0))
    box.label(text=f"From: {method}", icon="INFO")
    box.label(text=f"Confidence: {conf:.2f}", icon="ERROR" if conf < 0.5 else "CHECKMARK")


def draw_bonemap(layout: Any, context: Any, obj: Any) -> None:
    """Buttons, preset selector, then one row per segment with a bone search (extra rows for chain bones)."""
    group = obj.uplift_bonemap
    entries = group.entries
    if obj.library is not None:
        layout.label(text="Linked rig: make it local to edit its bone map", icon="LIBRARY_DATA_DIRECT")
        return
    row = layout.row(align=True)
    row.operator(bm.UPLIFT_OT_bonemap_guess.bl_idname, text="Guess", icon="VIEWZOOM").rig = obj.name
    row.operator(bm.UPLIFT_OT_bonemap_clear.bl_idname, text="Clear", icon="X").rig = obj.name
    row = layout.row(align=True)
    row.prop(context.window_manager, "uplift_bonemap_preset", text="")
    op = row.operator(bm.UPLIFT_OT_bonemap_load.bl_idname, text="Load", icon="IMPORT")
    op.rig = obj.name
    op.preset = context.window_manager.uplift_bonemap_preset
    row.operator(bm.UPLIFT_OT_bonemap_save_preset.bl_idname, text="", icon="FILE_TICK").rig = obj.name
    if not any(e.bone for e in entries):
        layout.label(text="No bone map stored: captures use a", icon="INFO")
        layout.label(text="matching preset or guess from names")
        if not entries:
            return
    elif group.source:
        layout.label(text=f"From: {group.source}" + (" (edited)" if group.edited else ""))
    bones = obj.data.bones
    col = layout.column(align=True)
    col.use_property_split = True
    col.use_property_decorate = False
    segments = bm.bonemap_lib().SEGMENT_NAMES
    first_finger = bm.bonemap_lib().FINGER_SEGMENTS[0]
    for seg in segments:
        if seg == first_finger:  # the 30 optional finger slots (Hands: Fingers) after the body
            col.label(text="Fingers (optional: Hands = Fingers)", icon="VIEW_PAN")
        rows = [i for i, e in enumerate(entries) if e.segment == seg]
        if not rows:  # only when the map was filled by a script: offer to add the segment
            r = col.row(align=True)
            r.label(text=f"{seg}: not in the map")
            op = r.operator(bm.UPLIFT_OT_bonemap_add_bone.bl_idname, text="", icon="ADD")
            op.rig, op.segment = obj.name, seg
            continue
        for k, i in enumerate(rows):
            e = entries[i]
            r = col.row(align=True)
            icon = "ERROR" if e.bone and e.bone not in bones else "BONE_DATA"
            r.prop_search(e, "bone", obj.data, "bones", text=seg if k == 0 else "", icon=icon)
            if k == 0:
                op = r.operator(bm.UPLIFT_OT_bonemap_add_bone.bl_idname, text="", icon="ADD")
                op.rig, op.segment = obj.name, seg
            else:
                op = r.operator(bm.UPLIFT_OT_bonemap_remove_bone.bl_idname, text="", icon="REMOVE")
                op.rig, op.index = obj.name, i
    unknown = sorted({e.segment for e in entries if e.segment not in segments})
    if unknown:
        layout.label(text=f"Unknown segments (capture refuses): {', '.join(unknown)}", icon="ERROR")


class UPLIFT_PT_bonemap(bpy.types.Panel):
    """Which bone follows which body segment, stored on the Target Rig (bonemap_ui.py)."""

    bl_label = "Bone Map"
    bl_idname = "UPLIFT_PT_bonemap"
    bl_parent_id = "UPLIFT_PT_capture"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Mocap"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context: Any) -> bool:
        return bm.target_rig(context) is not None

    def draw(self, context: Any) -> None:
        draw_bonemap(self.layout, context, bm.target_rig(context))


CLASSES = (UpliftSettings, UPLIFT_PT_capture, UPLIFT_PT_bonemap)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.uplift_capture = bpy.props.PointerProperty(type=UpliftSettings)


def unregister() -> None:
    del bpy.types.Scene.uplift_capture
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
