"""The last capture's quality report in Blender: stored on its action, shown in the sidebar, flags as markers.

Why a JSON custom property and not a PropertyGroup: it is saved with the .blend and read back even when the
add-on is disabled or a different version is installed, needs no registration on bpy.types.Action, and is
written in one assignment (apply.py rolls it back with the rest). It goes on the action (the report
describes that take) and on the armature (the last capture onto it, like the camera properties); the
sidebar prefers the action the rig plays now. Frames are stored as scene frames too (capture row ->
scene frame is decided once, in apply.frame_step), so the markers land where the keys are.
"""

from __future__ import annotations

import json
from typing import Any

import bpy

QUALITY_KEY = "uplift_quality"


def _scene_frame(row: int, first: int, step: float) -> int:
    return int(round(first + row * step))


def stored(report: Any, first: int, step: float) -> dict[str, Any]:
    """What the sidebar and the marker button need from an `inference.QualityReport`, as plain JSON types.
    `first` / `step`: the scene frame of capture row 0 and the scene frames per row (apply.frame_step)."""
    flags = [
        {
            **f.as_dict(),
            "scene_start": _scene_frame(f.start_frame, first, step),
            "scene_end": _scene_frame(f.end_frame, first, step),
        }
        for f in report.flags
    ]
    worst = report.worst()
    m = report.metrics.as_dict()
    return {
        "detection_rate": round(float(report.detection_rate), 4),
        "keyframe_count": len(report.keyframes),
        "effective_stride": round(float(report.effective_stride), 3),
        "stride": report.stride,
        "passes": int(report.passes),
        "frames": int(report.frames),
        "frame_start": int(report.frame_start),  # clip frame of capture row 0
        "jitter": m["jitter"],
        "bone_length_std_mm": m["bone_length_std_mm"],
        "foot_slide_mm": m["foot_slide_mm"],
        "flag_count": len(flags),
        "flag_counts": report.counts(),
        "flags": flags,
        "worst": None if worst is None else list(report.flags).index(worst),
        "summary": report.summary(),
    }


def write(holders: tuple[Any, ...], data: dict[str, Any]) -> None:
    text = json.dumps(data, separators=(",", ":"))
    for holder in holders:
        holder[QUALITY_KEY] = text


def read(obj: Any | None) -> dict[str, Any] | None:
    """The report of the action `obj` plays now, else of the last capture onto `obj`; None when neither."""
    if obj is None:
        return None
    ad = getattr(obj, "animation_data", None)
    for holder in (ad.action if ad is not None else None, obj):
        if holder is not None and QUALITY_KEY in holder:
            try:
                data = json.loads(str(holder[QUALITY_KEY]))
            except ValueError:  # edited by hand into something else: show nothing rather than fail drawing
                return None
            return data if isinstance(data, dict) else None
    return None


def worst_text(data: dict[str, Any]) -> str:
    """The one range to look at first, in words (the capture's Info report), or '' when nothing is flagged."""
    i = data.get("worst")
    if i is None or not data.get("flags"):
        return ""
    f = data["flags"][i]
    a, b = f["start_frame"] + data["frame_start"], f["end_frame"] + data["frame_start"]
    more = data["flag_count"] - 1
    others = f"; {more} more flagged range{'s' if more != 1 else ''} (Mocap tab > Mark Flags)" if more else ""
    return (
        f"Least trustworthy: {f['kind']} at frames {f['scene_start']}-{f['scene_end']} "
        f"(video frames {a}-{b}): {f['detail']}{others}"
    )


def marker_names(flag: dict[str, Any]) -> list[tuple[str, int]]:
    """(name, scene frame) of a flag's markers: its kind at the start, '<kind> end' at the end."""
    a, b = int(flag["scene_start"]), int(flag["scene_end"])
    return [(flag["kind"], a)] + ([(f"{flag['kind']} end", b)] if b > a else [])


def _fmt(value: Any, unit: str) -> str:
    return "n/a" if value is None else f"{float(value):.1f} {unit}"


def draw(layout: Any, obj: Any | None) -> None:
    """The sidebar box: the report's numbers and the marker button (nothing when `obj` has no report)."""
    data = read(obj)
    if data is None:
        return
    box = layout.box()
    box.label(text=f"Quality of the last capture onto {obj.name}:", icon="INFO")
    stride = "auto" if data["stride"] == "auto" else f"stride {data['stride']}"
    box.label(text=f"Person found on {100 * data['detection_rate']:.0f} % of {data['keyframe_count']} key-frames")
    box.label(text=f"Effective stride {data['effective_stride']:.1f} ({stride}, {data['passes']} passes)")
    box.label(text=f"Jitter: {_fmt(data['jitter'], 'mm/f²')}")
    box.label(text=f"Bone length std: {_fmt(data['bone_length_std_mm'], 'mm')}")
    box.label(text=f"Foot slide: {_fmt(data['foot_slide_mm'], 'mm/f')}")
    counts = ", ".join(f"{n} {k}" for k, n in data.get("flag_counts", {}).items())
    n = data["flag_count"]
    box.label(text=f"Flagged ranges: {n}" + (f" ({counts})" if counts else ""), icon="ERROR" if n else "CHECKMARK")
    if n:
        box.operator(UPLIFT_OT_quality_markers.bl_idname, text="Mark Flags", icon="MARKER_HLT").rig = obj.name


class UPLIFT_OT_quality_markers(bpy.types.Operator):
    """Put timeline markers on the frame ranges the last capture's quality report flagged"""

    bl_idname = "uplift.quality_markers"
    bl_label = "Mark Flagged Ranges"
    bl_options = {"REGISTER", "UNDO"}

    rig: bpy.props.StringProperty(name="Rig", description="Armature whose capture to mark; empty: the active one")  # type: ignore[valid-type]

    def execute(self, context: Any) -> set[str]:
        scene = context.scene
        obj = scene.objects.get(self.rig) if self.rig else context.view_layer.objects.active
        data = read(obj)
        if data is None:
            self.report({"ERROR"}, "No capture quality report on this object; capture onto it first.")
            return {"CANCELLED"}
        markers = scene.timeline_markers
        have = {(m.name, m.frame) for m in markers}
        wanted = [nf for f in data["flags"] for nf in marker_names(f)]
        added = [nf for nf in dict.fromkeys(wanted) if nf not in have]
        if not added:  # nothing changes: no undo step
            self.report({"INFO"}, f"All {len(set(wanted))} flag markers are already on the timeline.")
            return {"CANCELLED"}
        for name, frame in added:
            markers.new(name, frame=frame)
        self.report({"INFO"}, f"Added {len(added)} markers on {data['flag_count']} flagged ranges of {obj.name}.")
        return {"FINISHED"}


CLASSES = (UPLIFT_OT_quality_markers,)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
