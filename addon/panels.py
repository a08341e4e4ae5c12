"""3D viewport sidebar (N panel, "Mocap" tab): the capture options kept per scene, an estimate and the button."""
from typing import Any

import bpy

from . import operators, props


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


CLASSES = (UpliftSettings, UPLIFT_PT_capture)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.uplift_capture = bpy.props.PointerProperty(type=UpliftSettings)


def unregister() -> None:
    del bpy.types.Scene.uplift_capture
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
