"""The capture options as Blender properties, shared by the operator and the sidebar's scene settings.

One definition for both so the panel, File > Import and scripts offer the same options with the same
defaults; `to_options` turns either into the plain `CaptureOptions` the job and batch use.
"""

from __future__ import annotations

from typing import Any

from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ._pkgs import cli_args
from .job import CaptureOptions

VIDEO_GLOB = cli_args.VIDEO_GLOB  # the one list of video extensions (inference/cli_args.py)


def capture_props() -> dict[str, Any]:
    """Property definitions, in the order they are drawn."""
    return {
        "stride": IntProperty(
            name="Stride",
            min=1,
            max=60,
            default=10,
            description=(
                "Run 2D pose on every N-th video frame only; the model fills in the frames between. "
                "Higher is faster, lower follows quick motion more closely"
            ),
        ),
        "stride_auto": BoolProperty(
            name="Auto",
            default=False,
            description=(
                "Choose the key-frames by motion: a sparse first pass, then more key-frames where the "
                "person moved (fewer MediaPipe calls on still stretches, more on quick ones)"
            ),
        ),
        "pose_model": EnumProperty(
            name="Pose Model",
            default="full",
            items=[
                ("lite", "Lite", "Faster MediaPipe model, a little less precise"),
                ("full", "Full", "MediaPipe's full model (recommended)"),
            ],
        ),
        "target_rig": StringProperty(
            name="Target Rig",
            description="Armature to animate (Rigify, Mixamo-style or any humanoid). Empty: create a new armature",
        ),
        "smoothing": FloatProperty(
            name="Smoothing",
            min=0.0,
            max=1.0,
            default=0.5,
            subtype="FACTOR",
            description="Remove jitter: 0 keeps the raw motion, 1 smooths most",
        ),
        "root_motion": BoolProperty(
            name="Root Motion",
            default=True,
            description="Move the rig through space as the person moves; off keeps the hips in place",
        ),
        "foot_locking": BoolProperty(
            name="Foot Locking",
            default=True,
            description="Pin feet to the floor while they are in contact, to stop sliding",
        ),
        "use_frame_range": BoolProperty(name="Frame Range", default=False, description="Capture only part of the clip"),
        "frame_start": IntProperty(
            name="Start", min=0, default=0, description="First video frame to capture (0 = first frame)"
        ),
        "frame_end": IntProperty(
            name="End",
            min=0,
            default=0,
            description="Last video frame to capture (inclusive); 0 = to the end of the clip",
        ),
        "person": EnumProperty(
            name="Person",
            default="largest",
            items=[
                ("largest", "Largest", "The person who takes up most of the picture over the clip"),
                ("central", "Central", "The person closest to the middle of the picture"),
                ("rank", "By Size Rank", "The N-th largest person (0 = largest)"),
            ],
        ),
        "person_rank": IntProperty(
            name="Rank", min=0, max=20, default=1, description="0 = largest person, 1 = second largest, ..."
        ),
        "assume_level": BoolProperty(
            name="Assume Level Camera",
            default=False,
            description=(
                "Trust that the camera was level (not pitched or rolled) instead of measuring its tilt "
                "from the body and the floor"
            ),
        ),
        "camera_override": BoolProperty(
            name="Set Camera Tilt",
            default=False,
            description="Give the camera's pitch and roll yourself (e.g. read off a tripod) instead of measuring them",
        ),
        "camera_pitch": FloatProperty(
            name="Pitch",
            min=-89.0,
            max=89.0,
            default=0.0,
            precision=1,
            description="Camera pitch in degrees: negative looks down (a camera on a balcony), positive looks up",
        ),
        "camera_roll": FloatProperty(
            name="Roll",
            min=-89.0,
            max=89.0,
            default=0.0,
            precision=1,
            description=(
                "Camera roll in degrees: positive when the camera is turned counter-clockwise as seen from "
                "behind it (verticals in the picture lean to the right)"
            ),
        ),
        "hands": EnumProperty(
            name="Hands",
            default="WRISTS",
            items=[
                ("OFF", "Off", "Leave hands and wrists at rest"),
                ("WRISTS", "Wrists", "Turn the wrists and forearms from the pose's hand landmarks"),
                ("FINGERS", "Fingers", "Wrists, and fingers from MediaPipe's hand model on the key-frames (slower)"),
            ],
        ),
        "check_2d": BoolProperty(
            name="2D Check",
            default=False,
            description=(
                "Also add a camera showing the clip, with the detected 2D key-points as empties, "
                "to compare the detection with the video"
            ),
        ),
    }


OPTION_NAMES = tuple(capture_props())


def to_options(src: Any, video: str, device: str = "auto", pose_model: str | None = None) -> CaptureOptions:
    """`src` is the operator or the scene settings; `pose_model` overrides the variant with a file path."""
    person: str | int = src.person if src.person != "rank" else int(src.person_rank)
    frame_range = None
    if src.use_frame_range:
        end = int(src.frame_end) + 1 if src.frame_end > 0 else None
        frame_range = (int(src.frame_start), end)
    return CaptureOptions(
        video=video,
        stride="auto" if src.stride_auto else int(src.stride),
        pose_model=pose_model or src.pose_model,
        person=person,
        frame_range=frame_range,
        device=device,
        target=src.target_rig,
        smoothing=float(src.smoothing),
        root_motion=bool(src.root_motion),
        foot_locking=bool(src.foot_locking),
        check_2d=bool(src.check_2d),
        assume_level=bool(src.assume_level),
        camera_pitch=float(src.camera_pitch) if src.camera_override else None,
        camera_roll=float(src.camera_roll) if src.camera_override else None,
        hands=str(src.hands),
    )


def draw_options(layout: Any, src: Any, context: Any) -> None:
    """The options block, used by the operator's file-browser sidebar and the 3D view panel."""
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    row = col.row(align=True)
    sub = row.row(align=True)
    sub.enabled = not src.stride_auto
    sub.prop(src, "stride")
    row.prop(src, "stride_auto", toggle=True)
    col.prop(src, "pose_model")
    col.prop_search(src, "target_rig", context.scene, "objects", text="Target Rig", icon="ARMATURE_DATA")
    col.prop(src, "smoothing", slider=True)
    col.prop(src, "root_motion")
    col.prop(src, "foot_locking")
    col.prop(src, "hands")
    col.prop(src, "person")
    if src.person == "rank":
        col.prop(src, "person_rank")
    col.prop(src, "use_frame_range")
    if src.use_frame_range:
        sub = col.column(align=True)
        sub.prop(src, "frame_start")
        sub.prop(src, "frame_end")
    col.prop(src, "assume_level")
    col.prop(src, "camera_override")
    if src.camera_override:
        sub = col.column(align=True)
        sub.prop(src, "camera_pitch")
        sub.prop(src, "camera_roll")
    col.prop(src, "check_2d")
