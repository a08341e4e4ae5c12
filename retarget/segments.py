"""Body segments and their world rotations: the interface between the joint math and rig mapping.

A segment is a rigid body part seen through the 17 joints. Its rotation at frame t is the world rotation
taking the segment's frame in the canonical rest pose to its frame at t. Canonical rest pose (Blender
world): Z up, the character faces -Y, the character's left is +X, arms straight out along +-X (T-pose),
legs straight down, torso, neck and head straight up.

Each segment frame has one *exact* axis (a line between joints, reproduced exactly by forward kinematics)
and a *reference* axis fixing the roll (twist) about it:
    "line"   the reference is another joint line (hip line, shoulder line, or their bisector for the
             lower spine): twist fully determined.
    "bend"   the limb's bend-plane normal (elbow or knee hinge axis), blended smoothly towards "parent"
             as the limb straightens (the plane is undefined when straight).
    "plane"  the normal of the Thorax-Neck/Nose-Head plane (head yaw), blended towards "parent" as the
             three joints become collinear; its sign is the one nearer the parent's (a head bent forward
             of a head-base Neck point and one bent back of a nose bend the plane opposite ways).
    "parent" no twist information: the minimal (shortest-arc) swing from the parent's rotated frame.
The 17 joints do not determine feet, hands or forearm pronation: there are no hand segments and forearm
roll is the elbow hinge's. Feet are *derived* segments (`FOOT_SEGMENTS`): a rig's foot bone keeps its rest
attitude to the ground (level, as it stands in the rest pose) and turns only about the vertical, with the
heading of its shin; left to follow the shin rigidly, toes would dig into the floor whenever the shin tilts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import quat
from .skeleton import FLIP_PERM, INDEX, NUM_JOINTS, PARENTS

J = INDEX


@dataclass(frozen=True)
class Segment:
    head: int  # joint at the segment's origin
    tail: int  # exact axis = tail - head (hips: the hip line RHip -> LHip)
    parent: str | None
    rest_dir: tuple[float, float, float]  # unit exact axis in the canonical rest pose
    twist: str  # "line" | "bend" | "plane" | "parent" (see module docstring)
    ref_joints: tuple[int, ...] = ()  # joints defining the reference axis (meaning depends on `twist`)
    rest_ref: tuple[float, float, float] = (0.0, 0.0, 0.0)  # reference axis in the rest pose
    places: tuple[int, ...] = ()  # joints this segment positions in forward kinematics


_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
_NX, _NZ = (-1.0, 0.0, 0.0), (0.0, 0.0, -1.0)

# Ordered parents-first. rest_ref of "bend" segments: the hinge normal cross(upper, lower) of a limb bent
# the anatomical way from the T-pose (elbows flex forward to -Y, knees flex backward to +Y).
SEGMENTS: dict[str, Segment] = {
    "hips": Segment(J["RHip"], J["LHip"], None, _X, "line", (J["Pelvis"], J["Spine"]), _Z, (J["RHip"], J["LHip"])),
    "spine": Segment(
        J["Pelvis"],
        J["Spine"],
        "hips",
        _Z,
        "line",
        (J["RHip"], J["LHip"], J["RShoulder"], J["LShoulder"]),
        _X,
        (J["Spine"],),
    ),
    "chest": Segment(
        J["Spine"], J["Thorax"], "spine", _Z, "line", (J["RShoulder"], J["LShoulder"]), _X, (J["Thorax"],)
    ),
    "neck": Segment(J["Thorax"], J["Neck"], "chest", _Z, "parent", (), _X, (J["Neck"],)),
    "head": Segment(J["Neck"], J["Head"], "neck", _Z, "plane", (J["Thorax"], J["Neck"], J["Head"]), _NX, (J["Head"],)),
    "shoulder.L": Segment(J["Thorax"], J["LShoulder"], "chest", _X, "parent", (), _Z, (J["LShoulder"],)),
    "upper_arm.L": Segment(
        J["LShoulder"],
        J["LElbow"],
        "shoulder.L",
        _X,
        "bend",
        (J["LShoulder"], J["LElbow"], J["LWrist"]),
        _NZ,
        (J["LElbow"],),
    ),
    "forearm.L": Segment(
        J["LElbow"],
        J["LWrist"],
        "upper_arm.L",
        _X,
        "bend",
        (J["LShoulder"], J["LElbow"], J["LWrist"]),
        _NZ,
        (J["LWrist"],),
    ),
    "shoulder.R": Segment(J["Thorax"], J["RShoulder"], "chest", _NX, "parent", (), _Z, (J["RShoulder"],)),
    "upper_arm.R": Segment(
        J["RShoulder"],
        J["RElbow"],
        "shoulder.R",
        _NX,
        "bend",
        (J["RShoulder"], J["RElbow"], J["RWrist"]),
        _Z,
        (J["RElbow"],),
    ),
    "forearm.R": Segment(
        J["RElbow"],
        J["RWrist"],
        "upper_arm.R",
        _NX,
        "bend",
        (J["RShoulder"], J["RElbow"], J["RWrist"]),
        _Z,
        (J["RWrist"],),
    ),
    "thigh.L": Segment(
        J["LHip"], J["LKnee"], "hips", _NZ, "bend", (J["LHip"], J["LKnee"], J["LAnkle"]), _X, (J["LKnee"],)
    ),
    "shin.L": Segment(
        J["LKnee"], J["LAnkle"], "thigh.L", _NZ, "bend", (J["LHip"], J["LKnee"], J["LAnkle"]), _X, (J["LAnkle"],)
    ),
    "thigh.R": Segment(
        J["RHip"], J["RKnee"], "hips", _NZ, "bend", (J["RHip"], J["RKnee"], J["RAnkle"]), _X, (J["RKnee"],)
    ),
    "shin.R": Segment(
        J["RKnee"], J["RAnkle"], "thigh.R", _NZ, "bend", (J["RHip"], J["RKnee"], J["RAnkle"]), _X, (J["RAnkle"],)
    ),
}

# Derived segments: foot -> the segment whose heading (rotation about world up) it takes. A foot's rotation,
# when given (retarget.feet), turns the rig's rest foot as it stands (level): no rest direction.
FOOT_SEGMENTS: dict[str, str] = {"foot.L": "shin.L", "foot.R": "shin.R"}
# Toes (retarget.feet): bend so they stay on the floor while the heel is up; no rest direction either.
TOE_SEGMENTS: dict[str, str] = {"toe.L": "foot.L", "toe.R": "foot.R"}
# Hands (retarget.wrists): driven from MediaPipe's pose hand landmarks only; rest direction = the forearm's.
HAND_SEGMENTS: dict[str, str] = {"hand.L": "forearm.L", "hand.R": "forearm.R"}


def rest_directions() -> dict[str, tuple[float, float, float]]:
    """Canonical rest direction (head -> tail, T-pose) of every segment rig mapping aligns: body and hands."""
    out = {n: s.rest_dir for n, s in SEGMENTS.items()}
    out.update({h: SEGMENTS[f].rest_dir for h, f in HAND_SEGMENTS.items()})
    return out


# Which segment positions each joint in forward kinematics (root: None).
JOINT_SEGMENT: tuple[str | None, ...] = tuple(
    next((n for n, s in SEGMENTS.items() if j in s.places), None) for j in range(NUM_JOINTS)
)

# Bend / plane twist is trusted fully above 45 degrees of bend, not at all below 15 (the plane of a nearly
# straight limb swings wildly with small joint noise; measured on a CMU pirouette clip).
_BEND_LO, _BEND_HI = np.sin(np.radians(15.0)), np.sin(np.radians(45.0))


def _frame(axis: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Orthonormal frame [..., 3, 3] with columns (axis, ref orthogonalised, axis x ref)."""
    a = quat.normalize(axis)
    r = quat.normalize(ref - np.sum(ref * a, axis=-1, keepdims=True) * a)
    return np.stack([a, r, np.cross(a, r)], axis=-1)


def _frame_rotation(axis: np.ndarray, ref: np.ndarray, seg: Segment) -> np.ndarray:
    rest = _frame(np.asarray(seg.rest_dir, float), np.asarray(seg.rest_ref, float))
    return quat.from_matrix(_frame(axis, ref) @ rest.T)


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _wrap(x: np.ndarray) -> np.ndarray:
    return (x + np.pi) % (2 * np.pi) - np.pi


def _track_twist(theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Roll offset [T] that follows theta where it is trusted (w = 1: exactly) and holds its last value
    where it is not (w = 0: straight limb). Run forwards and backwards and averaged on the circle, so
    a roll change that happened while the limb was straight is split between the straightening and
    the re-bending instead of snapping at one frame."""

    def run(th: np.ndarray, ww: np.ndarray) -> np.ndarray:
        out = np.empty_like(th)
        cur = 0.0
        for t in range(len(th)):
            cur = cur + ww[t] * _wrap(th[t] - cur)
            out[t] = cur
        return out

    fwd = run(theta, w)
    bwd = run(theta[::-1], w[::-1])[::-1]
    return fwd + 0.5 * _wrap(bwd - fwd)


def _reference(seg: Segment, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference axis [T,3] and its trust weight [T] in [0, 1] (1 for "line" segments)."""
    r = seg.ref_joints
    if seg.twist == "line" and len(r) == 2:
        return j[:, r[1]] - j[:, r[0]], np.ones(len(j))
    if seg.twist == "line":  # bisector of two lines (lower spine: half the hip-to-chest twist)
        return quat.normalize(j[:, r[1]] - j[:, r[0]]) + quat.normalize(j[:, r[3]] - j[:, r[2]]), np.ones(len(j))
    u, v = quat.normalize(j[:, r[1]] - j[:, r[0]]), quat.normalize(j[:, r[2]] - j[:, r[1]])
    n = np.cross(u, v)
    return n, _smoothstep(np.linalg.norm(n, axis=-1), _BEND_LO, _BEND_HI)


def world_rotations(joints_world: np.ndarray) -> dict[str, np.ndarray]:
    """joints [T,17,3] (Blender world) -> {segment: unit quaternions [T,4] (w,x,y,z), sign-continuous}.

    Each rotation takes the segment's canonical rest frame to its frame at t: the exact axis follows the
    joints exactly; roll comes from the hip/shoulder lines, the limb's bend plane or the parent.
    """
    j = np.asarray(joints_world, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"joints must be [T, {NUM_JOINTS}, 3], got {j.shape}")
    out: dict[str, np.ndarray] = {}
    for name, seg in SEGMENTS.items():
        axis = j[:, seg.tail] - j[:, seg.head]
        if seg.twist == "line":
            ref, _ = _reference(seg, j)
            q = _frame_rotation(axis, ref, seg)
        else:
            # Fallback: the parent's frame swung the shortest way onto the bone.
            qp = out[seg.parent]
            swing = quat.between(quat.rotate(qp, np.asarray(seg.rest_dir, float)), axis)
            q = quat.mul(swing, qp)
            if seg.twist in ("bend", "plane"):
                ref, w = _reference(seg, j)
                if seg.twist == "plane":  # either side: which way the head bends depends on the Neck point
                    ref = np.where(np.sum(ref * quat.rotate(q, seg.rest_ref), axis=-1, keepdims=True) < 0, -ref, ref)
                q_ref = _frame_rotation(axis, np.where(w[:, None] > 0, ref, quat.rotate(q, seg.rest_ref)), seg)
                theta = quat.twist_angle(quat.mul(q_ref, quat.conj(q)), quat.normalize(axis))
                q = quat.mul(quat.from_axis_angle(axis, _track_twist(theta, w)), q)
        out[name] = quat.make_continuous(quat.normalize(q))
    return out


def rest_offsets(lengths: np.ndarray) -> np.ndarray:
    """Offset of each joint from its parent joint in the canonical rest pose, [17, 3]."""
    lengths = np.asarray(lengths, dtype=np.float64)
    off = np.zeros((NUM_JOINTS, 3))
    for j in range(1, NUM_JOINTS):
        seg = SEGMENTS[JOINT_SEGMENT[j]]
        d = np.asarray(seg.rest_dir, float)
        if j == seg.head:  # hips: RHip lies at -rest_dir from the pelvis
            d = -d
        off[j] = d * lengths[j]
    return off


def rest_skeleton(lengths: np.ndarray) -> np.ndarray:
    """Canonical T-pose joint positions [17, 3] for per-joint bone lengths [17]; pelvis at the origin."""
    off = rest_offsets(lengths)
    pos = np.zeros((NUM_JOINTS, 3))
    for j in range(1, NUM_JOINTS):
        pos[j] = pos[PARENTS[j]] + off[j]
    return pos


def bone_lengths(joints: np.ndarray, symmetric: bool = True) -> np.ndarray:
    """Robust per-bone lengths [17] (entry j = |joint j - its parent|, median over frames; entry 0 = 0).

    symmetric averages left and right: a rig is symmetric and per-side estimates from video differ by noise.
    """
    j = np.asarray(joints, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
    par = np.array(PARENTS[1:])
    d = np.linalg.norm(j[:, 1:] - j[:, par], axis=-1)
    out = np.zeros(NUM_JOINTS)
    out[1:] = np.nanmedian(d, axis=0)
    if symmetric:
        out = 0.5 * (out + out[list(FLIP_PERM)])
    return out
