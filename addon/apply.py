"""Main-thread step after a successful capture: retarget the joints and write one new action, all or nothing.

Everything the write adds (armature, action, 2D-check camera/clip/empties) is created here in one go;
if anything fails half-way, `_Rollback` removes what was added and puts the target rig's action back, so
a failure leaves the scene as it was even outside Blender's undo (scripts, batch).
"""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from . import bonemap_ui, check2d, quality_ui
from ._pkgs import bonemap, bpy_keys, extremities, fingers, inference
from ._pkgs import motion as motion_lib
from .job import CaptureOptions

# Smoothing slider (0..1) -> Butterworth cutoff: 0.5 gives the retarget default 6 Hz, 1 gives 3 Hz.
CUTOFF_LIGHT_HZ = 12.0


def retarget_options(options: CaptureOptions) -> Any:
    s = min(max(float(options.smoothing), 0.0), 1.0)
    return motion_lib.RetargetOptions(
        smoothing="none" if s <= 0.0 else "butterworth",
        cutoff_hz=CUTOFF_LIGHT_HZ * 4.0 ** (-s),
        root_motion="full" if options.root_motion else "in_place",
        foot_lock=bool(options.foot_locking),
        assume_level=bool(options.assume_level),
        camera_pitch=options.camera_pitch,
        camera_roll=options.camera_roll,
        hands=str(options.hands).lower(),
    )


# Custom properties a capture leaves on the armature and its action (the sidebar shows them).
CAMERA_KEYS = ("uplift_camera_pitch", "uplift_camera_roll", "uplift_camera_method", "uplift_camera_confidence")
RIG_KEYS = (*CAMERA_KEYS, quality_ui.QUALITY_KEY)  # what a failed write puts back on the target rig


def camera_props(floor: Any) -> dict[str, Any]:
    """What the capture found out about the camera (motion.floor), as custom property values."""
    return {
        "uplift_camera_pitch": round(float(floor.pitch_deg), 2),
        "uplift_camera_roll": round(float(floor.roll_deg), 2),
        "uplift_camera_method": str(floor.up_method),
        "uplift_camera_confidence": round(float(floor.up_confidence), 3),
    }


@dataclass
class Applied:
    armature: Any
    action: Any
    frames: int
    bonemap_source: str
    kept_action: Any = None
    check: Any = None
    warnings: list[str] = field(default_factory=list)
    camera: str = ""  # the camera's pitch and roll and how they were found (Motion.floor.describe)
    quality: dict[str, Any] | None = None  # the capture's quality report as stored (quality_ui.stored)

    def summary(self, seconds: float) -> str:
        kept = f"; previous action '{self.kept_action.name}' kept in a muted NLA track" if self.kept_action else ""
        camera = f". {self.camera}" if self.camera else ""
        return (
            f"Captured {self.frames} frames onto '{self.armature.name}' as action '{self.action.name}' "
            f"({self.bonemap_source}) in {seconds:.1f} s{kept}{camera}"
        )


_COLLECTIONS = ("objects", "armatures", "actions", "cameras", "movieclips", "collections")


class _Rollback:
    """Remembers which datablocks existed and the target's animation state; `undo()` restores both."""

    def __init__(self, target: Any | None) -> None:
        self.before = {c: {id_.as_pointer() for id_ in getattr(bpy.data, c)} for c in _COLLECTIONS}
        self.target = target
        ad = target.animation_data if target is not None else None
        self.action = ad.action if ad is not None else None
        self.fake_user = self.action.use_fake_user if self.action is not None else None
        self.slot = getattr(ad, "action_slot", None) if ad is not None else None
        self.tracks = len(ad.nla_tracks) if ad is not None else 0
        self.had_animation_data = ad is not None
        self.props = {k: target[k] for k in RIG_KEYS if k in target} if target is not None else {}

    def undo(self) -> None:
        if self.target is not None:
            ad = self.target.animation_data
            if ad is not None:
                while len(ad.nla_tracks) > self.tracks:
                    ad.nla_tracks.remove(ad.nla_tracks[-1])
                ad.action = self.action
                if self.slot is not None and hasattr(ad, "action_slot"):
                    ad.action_slot = self.slot
                if not self.had_animation_data:
                    self.target.animation_data_clear()
            if self.action is not None:
                self.action.use_fake_user = bool(self.fake_user)
            for k in RIG_KEYS:
                if k in self.props:
                    self.target[k] = self.props[k]
                elif k in self.target:
                    del self.target[k]
        for c in reversed(_COLLECTIONS):  # objects before their data
            coll = getattr(bpy.data, c)
            for id_ in [i for i in coll if i.as_pointer() not in self.before[c]]:
                coll.remove(id_)


def _target(context: Any, name: str) -> Any | None:
    if not name:
        return None
    obj = context.scene.objects.get(name)
    if obj is None or obj.type != "ARMATURE":
        raise inference.UpliftError(f"Target rig '{name}' is not an armature in scene '{context.scene.name}'.")
    return obj


STORED_SOURCE = "bone map: stored on rig"


def choose_bonemap(obj: Any, rest: Any) -> tuple[str, dict[str, Any], dict[str, float], list[str]]:
    """The map stored on the rig (checked against its bones; missing bones drop their segment with a
    warning) if it has one, else today's automatic choice. Reads the rig only: the stored map never changes."""
    stored, constants = bonemap_ui.stored_map(obj)
    if not stored:
        return bonemap_ui.auto_map(rest.names, rest.parents)
    try:
        clean = bonemap.validate(stored)
    except ValueError as exc:
        raise inference.UpliftError(
            f"The bone map stored on '{obj.name}' is invalid: {exc}. Fix it in the Mocap "
            f"tab (Bone Map), or press Clear to use the automatic map."
        ) from None
    resolved = bonemap.resolve(clean, rest.names)
    warnings = [
        f"Bone map: {seg} -> {clean[seg]!r} is not a bone of '{obj.name}' (renamed or deleted?); {seg} is not animated."
        for seg in clean
        if seg not in resolved
    ]
    return STORED_SOURCE, resolved, constants, warnings


def frame_step(scene: Any, capture_fps: float) -> tuple[float, str]:
    """Scene frames between two captured samples (real-time speed kept), and a warning when it is not 1.
    The one place the key spacing is decided: the keys and the message both use this value."""
    scene_fps = scene.render.fps / scene.render.fps_base
    step = scene_fps / capture_fps
    if abs(step - 1.0) <= 1e-3:
        return step, ""
    return step, (
        f"The video runs at {capture_fps:.3g} fps and the scene at {scene_fps:.3g} fps: keys are "
        f"spaced {step:.3g} frames apart to keep real-time speed. Set the scene to "
        f"{capture_fps:.3g} fps before capturing for one key per frame."
    )


def finger_pose(options: CaptureOptions, result: Any, rest: Any, bmap: dict[str, Any], warnings: list[str]) -> Any:
    """Finger rotations when the user asked for fingers and the capture has hand landmarks, else None."""
    hands3d = getattr(result, "hands3d", None)
    if str(options.hands).upper() != "FINGERS" or hands3d is None:
        return None
    if not any(s in bmap for s in fingers.FINGER_SEGMENTS):
        warnings.append("Hands: the rig has no finger bones in its bone map; fingers are not animated.")
        return None
    pose = fingers.finger_rotations(rest, bmap, hands3d, result.keyframes, float(result.fps))
    for s, side in enumerate(("left", "right")):
        if not pose.found[:, s].any():
            warnings.append(f"Hands: the {side} hand was not found on any key-frame; its fingers stay at rest.")
    return pose


def segment_rotations(motion: Any, result: Any, options: CaptureOptions) -> dict[str, Any]:
    """The motion's segment rotations with head, wrists and feet from the key-frames' 33 landmarks
    (retarget.extremities) laid over them where the capture has those landmarks."""
    opt = retarget_options(options)
    lm33 = getattr(result, "landmarks33", None)
    ext = extremities.drive(
        motion,
        getattr(result, "world33", None),
        result.keyframes,
        hands=opt.hands,
        head_turn=opt.head,
        foot_pitch=opt.foot_pitch,
        visibility=None if lm33 is None else lm33[..., 3],
    )
    return {**motion.rotations, **ext.rotations}


def apply_capture(context: Any, result: Any, options: CaptureOptions) -> Applied:
    """Retarget `result` (a CaptureResult) and key it onto the target rig or a new armature."""
    scene = context.scene
    target = _target(context, options.target)
    motion = motion_lib.retarget_motion(
        result.joints3d,
        fps=result.fps,
        points2d=result.points2d,
        image_size=tuple(result.image_size),
        options=retarget_options(options),
    )
    name = Path(result.source).stem
    first = int(scene.frame_start)
    step, warning = frame_step(scene, float(result.fps))
    warnings = list(motion.warnings) + ([warning] if warning else [])
    ankle = motion.floor.ankle_height  # the floor height the motion was put on, also the rig root's rest

    rollback = _Rollback(target)
    try:
        obj = target or bpy_keys.build_default_armature(
            name, motion.bone_lengths, collection=scene.collection, ankle_height=ankle
        )
        if target is None and str(options.hands).upper() in ("WRISTS", "FINGERS"):
            bpy_keys.add_finger_bones(obj, with_fingers=str(options.hands).upper() == "FINGERS")
        rest = bpy_keys.rig_rest(obj)
        source, bmap, constants, map_warnings = choose_bonemap(obj, rest)
        warnings.extend(map_warnings)
        if "hips" not in bmap or not any(s in bmap for s in ("thigh.L", "thigh.R")):
            if source == STORED_SOURCE:
                raise inference.UpliftError(
                    f"The bone map stored on '{obj.name}' has no hips or no thigh bone. Set them in the Mocap tab "
                    f"(Bone Map), or press Clear to use the automatic map."
                )
            raise inference.UpliftError(
                f"Could not find the hips and legs in '{obj.name}' (bone names: {', '.join(rest.names[:8])}...). "
                f"Use a Rigify, Mixamo-style or other humanoid rig, or leave Target Rig empty for a new armature."
            )
        report, _pose = bpy_keys.retarget_onto(
            obj,
            segment_rotations(motion, result, options),
            motion.root,
            motion.bone_lengths,
            name,
            bonemap=bmap,
            constants=constants,
            rest=rest,
            frame_start=first,
            frame_step=step,
            ankle_height=ankle,
            extra=finger_pose(options, result, rest, bmap, warnings),
        )
        check = None
        if options.check_2d:
            check = check2d.build(context, result, name, first)
        last = report.frame_range[1]
        if last > scene.frame_end:
            warnings.append(
                f"Scene end frame extended from {scene.frame_end} to {math.ceil(last)} to show the capture."
            )
            scene.frame_end = math.ceil(last)
        for holder in (obj, report.action):  # the last capture's camera, for the sidebar and scripts
            for k, v in camera_props(motion.floor).items():
                holder[k] = v
        quality = None
        if getattr(result, "report", None) is not None:  # how far to trust this take, for sidebar and markers
            quality = quality_ui.stored(result.report, first, step)
            quality_ui.write((obj, report.action), quality)
        if target is None:
            for o in context.view_layer.objects:
                o.select_set(False)
            obj.select_set(True)
            context.view_layer.objects.active = obj
    except Exception:
        rollback.undo()
        raise
    return Applied(
        obj,
        report.action,
        len(result.joints3d),
        source,
        report.kept_action,
        check,
        warnings,
        motion.floor.describe(),
        quality,
    )
