"""The one retarget module that touches bpy: read a rig's rest pose, build the default armature, write keys.

Kept thin (glTF-Blender-IO style): all the math is in rigmap/segments; this file moves arrays in and out
of Blender. Keys are written with ``keyframe_points.add`` + ``foreach_set`` (one call per F-curve,
not one Python call per key). Blender 4.4+ stores F-curves in slotted actions (layer -> strip ->
channelbag; 5.0 removed ``Action.fcurves``); 4.2/4.3 use ``Action.fcurves``. Nothing here calls an
undo push: a caller (one operator) gets one undo step for everything. Nothing here reads the scene
either: timing (frame start, frame step) and the ankle height come in as arguments, decided once by
the caller, so the keys and the caller's messages about them cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import bpy
import numpy as np

from . import feet, fingers, rigmap
from . import quat as Q
from .contact import ANKLE_HEIGHT
from .segments import FOOT_SEGMENTS, SEGMENTS, rest_directions, rest_skeleton
from .skeleton import INDEX

SLOTTED = bpy.app.version >= (4, 4, 0)
_INTERP = {"CONSTANT": 0, "LINEAR": 1, "BEZIER": 2}


# ---------------------------------------------------------------- reading rigs


def rig_rest(obj: bpy.types.Object) -> rigmap.RigRest:
    """Rest pose of an armature object as plain arrays."""
    if obj is None or obj.type != "ARMATURE":
        raise ValueError(f"{getattr(obj, 'name', obj)!r} is not an armature object")
    bones = obj.data.bones
    names = [b.name for b in bones]
    index = {n: i for i, n in enumerate(names)}
    parents = [index[b.parent.name] if b.parent else -1 for b in bones]
    mats = np.array([np.array(b.matrix_local) for b in bones], dtype=np.float64).reshape(-1, 4, 4)
    lengths = np.array([b.length for b in bones], dtype=np.float64)
    modes = [obj.pose.bones[n].rotation_mode for n in names] if obj.pose else None
    follows = {}
    # A driven influence (Rigify's follow sliders) depends on properties the new action may key: skip it.
    driven = {d.data_path for d in obj.animation_data.drivers} if obj.animation_data else set()
    for i, n in enumerate(names):
        for c in obj.pose.bones[n].constraints if obj.pose else ():
            if c.path_from_id("influence") in driven:
                continue
            if (
                c.type in ("COPY_TRANSFORMS", "COPY_ROTATION")
                and c.enabled
                and c.influence >= 1.0
                and c.target == obj
                and c.subtarget in index
                and c.owner_space == c.target_space == "WORLD"
                and getattr(c, "mix_mode", "REPLACE") == "REPLACE"
            ):
                follows[i] = index[c.subtarget]
    return rigmap.RigRest(
        names, parents, mats, lengths, np.array(obj.matrix_world), modes, follows, [b.use_connect for b in bones]
    )


# ---------------------------------------------------------------- the default armature

# Joint each segment's bone ends at (its head is the segment's head joint; hips: a short bone pointing down).
_TAIL_JOINT = {name: seg.tail for name, seg in SEGMENTS.items() if name != "hips"}


def default_joints(lengths: np.ndarray, ankle_height: float = ANKLE_HEIGHT) -> np.ndarray:
    """Canonical T-pose joints [17, 3] standing on z = 0 (ankles at `ankle_height`)."""
    j = rest_skeleton(lengths)
    return j - np.array([0.0, 0.0, j[:, 2].min() - ankle_height])


def build_default_armature(
    name: str, lengths: np.ndarray, collection: bpy.types.Collection | None = None, ankle_height: float = ANKLE_HEIGHT
) -> bpy.types.Object:
    """New armature object + data named `name` (Blender makes the names unique), bones named after the
    segments, rest pose = the canonical T-pose for these per-joint bone lengths [17]. Edit bones need
    `object.mode_set`, which works on the context's view layer: that one is used (and restored)."""
    joints = default_joints(lengths, ankle_height)
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    (collection or bpy.context.scene.collection).objects.link(obj)
    view_layer = bpy.context.view_layer
    prev_active = view_layer.objects.active
    prev_mode = prev_active.mode if prev_active else "OBJECT"
    if prev_active is not None and prev_mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        eb = arm.edit_bones
        for seg_name, seg in SEGMENTS.items():
            b = eb.new(seg_name)
            head = joints[INDEX["Pelvis"]] if seg_name == "hips" else joints[seg.head]
            if seg_name == "hips":
                drop = max(0.5 * float(np.linalg.norm(joints[INDEX["Spine"]] - joints[INDEX["Pelvis"]])), 0.05)
                tail = head - np.array([0.0, 0.0, drop])
            else:
                tail = joints[_TAIL_JOINT[seg_name]]
            b.head, b.tail = tuple(head), tuple(tail)
            # Roll: bone Z towards the character's front for vertical bones, up for the arms.
            b.align_roll(
                (0.0, 0.0, 1.0) if seg_name.startswith(("shoulder", "upper_arm", "forearm")) else (0.0, -1.0, 0.0)
            )
        for seg_name, seg in SEGMENTS.items():
            if seg.parent:
                b, p = eb[seg_name], eb[seg.parent]
                b.parent = p
                b.use_connect = seg.parent != "hips" and (b.head - p.tail).length < 1e-6
        for foot, shin in FOOT_SEGMENTS.items():  # ankle -> ball of the foot -> toe tip, on the shin's tip
            ankle = joints[SEGMENTS[shin].tail]
            head, ball, tip = feet.default_foot(ankle, float(lengths[SEGMENTS[shin].tail]), ankle_height)
            for name, h, t, parent in ((foot, head, ball, shin), (f"toe{foot[4:]}", ball, tip, foot)):
                b = eb.new(name)
                b.head, b.tail = tuple(h), tuple(t)
                b.align_roll((0.0, 0.0, 1.0))
                b.parent, b.use_connect = eb[parent], True
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = prev_active if prev_active is not None else obj
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    return obj


@contextmanager
def _editing(obj: bpy.types.Object) -> Iterator[bpy.types.ArmatureEditBones]:
    """Edit bones of `obj` through the context's view layer; the active object and mode are restored."""
    view_layer = bpy.context.view_layer
    prev_active = view_layer.objects.active
    if prev_active is not None and prev_active.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        yield obj.data.edit_bones
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = prev_active if prev_active is not None else obj


def add_finger_bones(obj: bpy.types.Object, with_fingers: bool = True) -> list[str]:
    """Give a default armature hands: `hand.L/R` (unless it has them) on the forearm tips and, with
    `with_fingers`, 15 finger bones each, named after the finger segments (fingers.default_finger_bones).
    Returns the bones added."""
    added: list[str] = []
    with _editing(obj) as eb:
        for side in ("L", "R"):
            fore = eb.get(f"forearm.{side}")
            if fore is None:
                continue
            wrist = np.array(fore.tail)
            for name, head, tail, parent in fingers.default_finger_bones(wrist, fore.length, side):
                if name in eb or (parent is not None and not with_fingers):
                    continue
                b = eb.new(name)
                b.head, b.tail = tuple(head), tuple(tail)
                b.align_roll((0.0, 0.0, 1.0))
                b.parent = eb[parent] if parent else fore
                b.use_connect = parent is None or (b.head - eb[parent].tail).length < 1e-6
                added.append(name)
    for name in added:
        obj.pose.bones[name].rotation_mode = "QUATERNION"
    return added


# ---------------------------------------------------------------- writing keys


def _escape(name: str) -> str:
    return bpy.utils.escape_identifier(name)


class _CurveSink:
    """Creates F-curves on a new action for one object, through the API of the running Blender."""

    def __init__(self, action: bpy.types.Action, obj: bpy.types.Object):
        self.action = action
        if SLOTTED:
            self.slot = action.slots.new(id_type="OBJECT", name=obj.name)
            layer = action.layers.new("Layer")
            strip = layer.strips.new(type="KEYFRAME")
            self.bag = strip.channelbag(self.slot, ensure=True)
            self.curves = self.bag.fcurves
        else:
            self.slot = None
            self.curves = action.fcurves
        self._groups: dict[str, bpy.types.ActionGroup] = {}

    def new(self, data_path: str, index: int, group: str) -> bpy.types.FCurve:
        if SLOTTED:
            g = self._groups.get(group) or self.bag.groups.new(group)
            self._groups[group] = g
            fc = self.curves.new(data_path, index=index)
            fc.group = g
            return fc
        return self.curves.new(data_path, index=index, action_group=group)


def _fill(fc: bpy.types.FCurve, frames: np.ndarray, values: np.ndarray, interpolation: str = "LINEAR") -> None:
    """All keys of one F-curve in three bulk calls."""
    n = len(frames)
    kp = fc.keyframe_points
    kp.add(n)
    co = np.empty(2 * n, dtype=np.float32)
    co[0::2] = frames
    co[1::2] = values
    kp.foreach_set("co", co)
    kp.foreach_set("interpolation", np.full(n, _INTERP[interpolation], dtype=np.int32))
    fc.update()


def _bone_channels(mode: str, q: np.ndarray) -> tuple[str, np.ndarray]:
    """Local quaternions [T,4] -> (property, values [T,k]) in the bone's own rotation mode, so that keys
    show up as the user's rig expects and a kept old action (Euler keys) still plays."""
    if mode == "QUATERNION":
        return "rotation_quaternion", q
    if mode == "AXIS_ANGLE":
        w = np.clip(q[:, 0], -1.0, 1.0)
        ang = 2 * np.arccos(w)
        s = np.sqrt(np.maximum(1 - w * w, 1e-12))[:, None]
        axis = np.where(s > 1e-6, q[:, 1:] / s, np.array([0.0, 1.0, 0.0]))
        return "rotation_axis_angle", np.concatenate([ang[:, None], axis], axis=1)
    return "rotation_euler", Q.to_euler(q, mode)


def action_fcurves(action: bpy.types.Action) -> list[bpy.types.FCurve]:
    """Every F-curve of an action, on any supported Blender (slotted or legacy)."""
    if SLOTTED:
        return [
            fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves
        ]
    return list(action.fcurves)


def _keep_user_action(obj: bpy.types.Object) -> bpy.types.Action | None:
    """Move the object's current action into a muted NLA track (and give it a fake user) so it is
    never lost; returns it. The user can unmute the track to blend it back in."""
    ad = obj.animation_data
    if ad is None or ad.action is None:
        return None
    old = ad.action
    old.use_fake_user = True
    old_slot = getattr(ad, "action_slot", None) if SLOTTED else None
    track = ad.nla_tracks.new()
    track.name = f"[kept] {old.name}"
    start = int(np.floor(old.frame_range[0]))
    strip = track.strips.new(old.name, start, old)
    if SLOTTED and old_slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = old_slot
    track.mute = True
    ad.action = None
    return old


@dataclass
class KeyReport:
    action: bpy.types.Action
    kept_action: bpy.types.Action | None
    fcurves: int
    keys: int
    frame_range: tuple[float, float]


_IDENTITY = {
    "QUATERNION": ("rotation_quaternion", (1.0, 0.0, 0.0, 0.0)),
    "AXIS_ANGLE": ("rotation_axis_angle", (0.0, 0.0, 1.0, 0.0)),
}


def write_action(
    obj: bpy.types.Object,
    name: str,
    rotations: Mapping[str, np.ndarray],
    *,
    root_bone: str | None = None,
    root_location: np.ndarray | None = None,
    rest_bones: Sequence[str] = (),
    constants: Mapping[str, float] | None = None,
    frame_start: float = 1.0,
    frame_step: float = 1.0,
) -> KeyReport:
    """One NEW action named after the clip (Blender appends .001 etc. if taken) with a key on every frame.

    rotations: bone -> local quaternions [T,4] (w,x,y,z); written in each bone's rotation mode.
    root_location: [T,3] pose-space location of `root_bone`. rest_bones: keyed once at their rest pose
    (identity rotation, zero location) because the rotations assume it. constants: F-curve data path -> value keyed
    once (e.g. Rigify IK/FK switches). A previously assigned action is kept (muted NLA track + fake user).
    Frame of sample t = frame_start + t * frame_step (frame_step = scene fps / capture fps).
    """
    if obj is None or obj.type != "ARMATURE":
        raise ValueError(f"{getattr(obj, 'name', obj)!r} is not an armature object")
    missing = [b for b in rotations if b not in obj.pose.bones]
    if root_bone is not None and root_bone not in obj.pose.bones:
        missing.append(root_bone)
    if missing:
        raise ValueError(f"bones not in armature {obj.name!r}: {missing}")
    lengths = {len(v) for v in rotations.values()} | ({len(root_location)} if root_location is not None else set())
    if len(lengths) != 1:
        raise ValueError(f"all key arrays must have the same number of frames, got {sorted(lengths)}")
    T = lengths.pop()
    frames = frame_start + np.arange(T, dtype=np.float64) * frame_step

    for arr in list(rotations.values()) + ([root_location] if root_location is not None else []):
        if not np.all(np.isfinite(arr)):
            raise ValueError("refusing to key non-finite values (NaN/inf) from the retarget")

    kept = _keep_user_action(obj)
    action = bpy.data.actions.new(name)  # never reuses a name: Blender appends .001, .002, ...
    sink = _CurveSink(action, obj)
    n_curves = n_keys = 0
    for bone, q in rotations.items():
        prop, vals = _bone_channels(obj.pose.bones[bone].rotation_mode, np.asarray(q, dtype=np.float64))
        path = f'pose.bones["{_escape(bone)}"].{prop}'
        for i in range(vals.shape[1]):
            _fill(sink.new(path, i, bone), frames, vals[:, i])
            n_curves, n_keys = n_curves + 1, n_keys + T
    if root_bone is not None and root_location is not None:
        path = f'pose.bones["{_escape(root_bone)}"].location'
        for i in range(3):
            _fill(sink.new(path, i, root_bone), frames, np.asarray(root_location)[:, i])
            n_curves, n_keys = n_curves + 1, n_keys + T
    for bone in rest_bones:
        pb = obj.pose.bones[bone]
        prop, vals = _IDENTITY.get(pb.rotation_mode, ("rotation_euler", (0.0, 0.0, 0.0)))
        paths = [(f'pose.bones["{_escape(bone)}"].{prop}', vals)]
        if not obj.data.bones[bone].use_connect and bone != root_bone:
            paths.append((f'pose.bones["{_escape(bone)}"].location', (0.0, 0.0, 0.0)))
        for path, vals in paths:
            for i, v in enumerate(vals):
                _fill(sink.new(path, i, bone), frames[:1], np.array([v]), "CONSTANT")
                n_curves, n_keys = n_curves + 1, n_keys + 1
    for path, value in (constants or {}).items():
        try:
            obj.path_resolve(path)
        except ValueError:
            continue  # the rig lacks this property (e.g. a Rigify variant): nothing to key
        _fill(sink.new(path, 0, "Settings"), frames[:1], np.array([value]), "CONSTANT")
        n_curves, n_keys = n_curves + 1, n_keys + 1

    ad = obj.animation_data or obj.animation_data_create()
    ad.action = action
    if SLOTTED and ad.action_slot is None:
        ad.action_slot = sink.slot
    return KeyReport(action, kept, n_curves, n_keys, (float(frames[0]), float(frames[-1])))


def set_scene_timing(scene: bpy.types.Scene, fps: float, frame_start: int, frame_end: int) -> None:
    """Scene fps and frame range (only when the caller asks for it)."""
    base = max(1, int(round(fps)))
    scene.render.fps = base
    scene.render.fps_base = base / float(fps)
    scene.frame_start = int(frame_start)
    scene.frame_end = int(frame_end)


# ---------------------------------------------------------------- one call: segments -> keyed action


def retarget_onto(
    obj: bpy.types.Object,
    seg_rots: Mapping[str, np.ndarray],
    root_positions: np.ndarray,
    lengths: np.ndarray,
    name: str,
    *,
    bonemap: Mapping[str, str | Sequence[str]],
    constants: Mapping[str, float] | None = None,
    rest: rigmap.RigRest | None = None,
    frame_start: float = 1.0,
    frame_step: float = 1.0,
    ankle_height: float = ANKLE_HEIGHT,
    extra: fingers.FingerPose | None = None,
) -> tuple[KeyReport, rigmap.PoseResult]:
    """Key `obj` with segment rotations {segment: [T,4]} and pelvis positions [T,3] (Blender world,
    metres, ground at z = 0) of a capture with per-joint bone lengths [17].

    Root motion is scaled by rig leg length / capture leg length; the capture's standing pelvis height
    is its leg length + `ankle_height` (pass the motion's own, `Motion.floor.ankle_height`). `rest`: the
    rig's `rig_rest(obj)` if the caller already read it (e.g. to choose the bone map). Sample t lands on
    frame `frame_start + t * frame_step` (`frame_step` = scene fps / capture fps, decided by the caller).
    extra: finger rotations (fingers.finger_rotations) keyed in the same action.
    """
    rig = rest if rest is not None else rig_rest(obj)
    lengths = np.asarray(lengths, dtype=np.float64)
    leg = float(lengths[INDEX["LKnee"]] + lengths[INDEX["LAnkle"]])
    root_rest = default_joints(lengths, ankle_height)[INDEX["Pelvis"]]
    pose = rigmap.pose_rotations(
        rig,
        bonemap,
        seg_rots,
        rest_directions(),
        root_positions,
        root_rest=root_rest,
        capture_leg_length=leg,
    )
    rotations, rest_bones = dict(pose.rotations), list(pose.rest_bones)
    if extra is not None:
        rotations.update(extra.rotations)
        rest_bones += [b for b in extra.rest_bones if b not in rotations and b not in rest_bones]
    report = write_action(
        obj,
        name,
        rotations,
        root_bone=pose.root_bone,
        root_location=pose.root_location,
        rest_bones=rest_bones,
        constants=constants,
        frame_start=frame_start,
        frame_step=frame_step,
    )
    return report, pose
