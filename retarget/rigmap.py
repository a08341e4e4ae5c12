"""Segment world rotations + a rig's rest pose -> pose-bone local rotations and root location.

Pure numpy (no bpy, no scipy: this runs inside Blender, which ships numpy only).

Why it is built this way:
- A capture gives, per segment, the rotation taking the segment's canonical rest frame (a T-pose in
  Blender world: Z up, character faces -Y, its left is +X) to its frame at time t.
- A rig has its own rest pose (T-pose, A-pose, bent spine, any bone roll, any facing). Per mapped
  segment we take the rig's rest chain direction, express it in the rig's own facing frame and find
  the smallest rotation ("swing") taking it onto the canonical direction: that is the rig's rest ->
  canonical offset. The posed world rotation of every bone of the chain is then
  ``C @ R_seg(t) @ A_seg @ C^T @ G_rest``, so the chain's head->tail line points where the segment
  points and its roll relative to the body is the rig's own.
- The hips have no usable direction (hips bones point up, down or sideways by rig); the rest pose is
  taken as upright and facing C, so the hips get the pure delta ``C R C^T``.
- Unmapped bones keep their rest pose relative to their parent (the unmapped *ancestors* of keyed bones
  are keyed at rest in the new action, so a stale pose left by a previous action cannot tilt the
  result: see ``PoseResult.rest_bones``); a mapped bone gets its absolute world
  orientation whatever its (un)mapped ancestors do, so extra bones between mapped ones (spine.002,
  twist bones, clavicle helpers) never tilt what comes after them.
- A segment can map to a chain of consecutive bones (e.g. Rigify spine.001 + spine.002): the chain
  turns rigidly, keeping its rest curvature, so that its first head -> last tail line follows the
  segment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import quat as Q
from .segments import FOOT_SEGMENTS, TOE_SEGMENTS

ROOT_SEGMENT = "hips"

# Quaternions are (w, x, y, z) throughout, as Blender's pose_bone.rotation_quaternion.


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation matrix taking direction a onto direction b (both 3-vectors)."""
    return Q.to_matrix(Q.between(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)))


def continuous(q: np.ndarray) -> np.ndarray:
    """Sign-continuous quaternions starting with w >= 0 (no long-way-round spins between keys)."""
    q = np.array(q, dtype=np.float64)
    if len(q) and q[0, 0] < 0:
        q = -q
    return Q.make_continuous(q)


def _rotation_part(m: np.ndarray) -> np.ndarray:
    """Nearest rotation to a 3x3 matrix that may hold (non-uniform) scale."""
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    return r


@dataclass
class RigRest:
    """What rigmap needs of an armature: bone names, parents, rest matrices, object world matrix.

    ``matrices`` are Blender's ``bone.matrix_local`` (armature space, bone Y axis along the bone);
    ``world`` is the armature object's ``matrix_world``. Lengths are in armature units.
    """

    names: list[str]
    parents: list[int]
    matrices: np.ndarray  # [N, 4, 4]
    lengths: np.ndarray  # [N]
    world: np.ndarray = field(default_factory=lambda: np.eye(4))
    rotation_modes: list[str] | None = None
    # bone -> bone whose world transform it copies (a Copy Transforms/Rotation constraint at full
    # influence, world space): Rigify's ORG-shoulder.L follows the shoulder.L control, and the arm hangs
    # from the ORG bone, so the walk must know where it really is.
    follows: dict[int, int] = field(default_factory=dict)
    connected: list[bool] | None = None  # bone.use_connect: a connected bone's location cannot be keyed

    def __post_init__(self) -> None:
        self.matrices = np.asarray(self.matrices, dtype=np.float64).reshape(-1, 4, 4)
        self.lengths = np.asarray(self.lengths, dtype=np.float64)
        self.world = np.asarray(self.world, dtype=np.float64)
        self._index = {n: i for i, n in enumerate(self.names)}

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"bone {name!r} is not in the armature") from None

    @property
    def world_rotation(self) -> np.ndarray:
        return _rotation_part(self.world[:3, :3])

    def rest_world_rotations(self) -> np.ndarray:
        """[N, 3, 3] rest orientation of every bone in world space."""
        return self.world_rotation @ self.matrices[:, :3, :3]

    def heads_world(self) -> np.ndarray:
        h = self.matrices[:, :, 3]
        return (h @ self.world.T)[:, :3]

    def tails_world(self) -> np.ndarray:
        t = self.matrices[:, :, 3] + self.matrices[:, :, 1] * self.lengths[:, None]
        return (t @ self.world.T)[:, :3]

    def chain(self, first: str, last: str) -> list[str]:
        """Bones from `first` down to `last` (inclusive), walking parents up from `last`."""
        out = [last]
        i = self.index(last)
        stop = self.index(first)
        while i != stop:
            i = self.parents[i]
            if i < 0:
                raise ValueError(f"{first!r} is not an ancestor of {last!r}")
            out.append(self.names[i])
        return out[::-1]


def _as_chain(v: str | Sequence[str]) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


def _chain_of(rig: RigRest, bonemap: Mapping[str, str | Sequence[str]], seg: str) -> list[int]:
    return [rig.index(b) for b in _as_chain(bonemap[seg])]


# The segment whose first bone's head ends a segment's chain: joints (bone heads) are reliable in every
# rig, tails are not (BVH imports put a joint's tail at the mean of its children, e.g. chest -> clavicles).
_ENDS_AT = {"spine": "chest", "chest": "neck", "neck": "head"}
for _s in "LR":
    _ENDS_AT.update(
        {
            f"shoulder.{_s}": f"upper_arm.{_s}",
            f"upper_arm.{_s}": f"forearm.{_s}",
            f"forearm.{_s}": f"hand.{_s}",
            f"thigh.{_s}": f"shin.{_s}",
        }
    )


def _chain_end(rig: RigRest, bonemap: Mapping[str, str | Sequence[str]], seg: str, fallback: np.ndarray) -> np.ndarray:
    nxt = _ENDS_AT.get(seg)
    first = _as_chain(bonemap[nxt])[0] if nxt and nxt in bonemap else None
    if first is not None and first in rig._index:  # an optional next slot (hand) the rig may lack
        end = rig.heads_world()[_chain_of(rig, bonemap, nxt)[0]]
        if np.linalg.norm(end - rig.heads_world()[_chain_of(rig, bonemap, seg)[0]]) > 1e-6:
            return end
    return fallback


def rig_facing(rig: RigRest, bonemap: Mapping[str, str | Sequence[str]], snap_degrees: float = 30.0) -> np.ndarray:
    """Rotation C taking canonical axes (X = character's left, Y = back, Z = up) to the rig's rest world axes.

    Measured from the mapped bones (left = left thigh/arm minus right, up = hips -> chest/head), then
    snapped to the nearest axis-aligned frame if within `snap_degrees` (rest spines lean, hips are
    rarely level: the snap keeps an upright rig upright).
    """
    heads, tails = rig.heads_world(), rig.tails_world()

    def head(seg: str) -> np.ndarray | None:
        return heads[_chain_of(rig, bonemap, seg)[0]] if seg in bonemap else None

    left = None
    for a, b in (("thigh.L", "thigh.R"), ("upper_arm.L", "upper_arm.R"), ("shoulder.L", "shoulder.R")):
        ha, hb = head(a), head(b)
        if ha is not None and hb is not None and np.linalg.norm(ha - hb) > 1e-6:
            left = ha - hb
            break
    up = None
    base = head(ROOT_SEGMENT)
    for s in ("head", "neck", "chest", "spine"):
        top = head(s)
        if base is not None and top is not None and np.linalg.norm(top - base) > 1e-6:
            up = top - base
            break
    if up is None and "shin.L" in bonemap and "thigh.L" in bonemap:
        up = head("thigh.L") - tails[_chain_of(rig, bonemap, "shin.L")[-1]]
    if left is None or up is None:
        return np.eye(3)  # too little mapped to tell: trust Blender's convention
    x = left / np.linalg.norm(left)
    z = up - np.dot(up, x) * x
    z /= np.linalg.norm(z)
    c = np.stack([x, np.cross(z, x), z], axis=1)
    # Snap: round each column to its dominant axis if that gives a proper rotation close to c.
    snapped = np.zeros((3, 3))
    for k in range(3):
        i = int(np.argmax(np.abs(c[:, k])))
        snapped[i, k] = np.sign(c[i, k])
    if abs(np.linalg.det(snapped) - 1) < 1e-9:
        ang = np.degrees(np.arccos(np.clip((np.trace(snapped.T @ c) - 1) / 2, -1, 1)))
        if ang <= snap_degrees:
            return snapped
    return c


def leg_length(rig: RigRest, bonemap: Mapping[str, str | Sequence[str]]) -> float | None:
    """Mean hip -> ankle length along the mapped thigh+shin chains, in world units (None if unmapped)."""
    heads, tails = rig.heads_world(), rig.tails_world()
    out = []
    for side in ("L", "R"):
        t, s = f"thigh.{side}", f"shin.{side}"
        if t in bonemap and s in bonemap:
            ti, si = _chain_of(rig, bonemap, t), _chain_of(rig, bonemap, s)
            knee = _chain_end(rig, bonemap, t, tails[ti[-1]])
            out.append(np.linalg.norm(knee - heads[ti[0]]) + np.linalg.norm(tails[si[-1]] - heads[si[0]]))
    return float(np.mean(out)) if out else None


@dataclass
class PoseResult:
    """Local pose-bone rotations (w, x, y, z) per keyed bone, plus the root bone's location keys."""

    rotations: dict[str, np.ndarray]  # bone -> [T, 4]
    root_bone: str | None
    root_location: np.ndarray | None  # [T, 3] in the root bone's local (pose) space, armature units
    scale: float  # rig size / capture size applied to root motion
    facing: np.ndarray  # [3, 3] C
    world_rotations: dict[str, np.ndarray]  # bone -> [T, 3, 3] posed world orientation (for checks)
    rest_bones: list[str] = field(default_factory=list)  # unmapped ancestors of keyed bones: key at rest


def pose_rotations(
    rig: RigRest,
    bonemap: Mapping[str, str | Sequence[str]],
    seg_rots: Mapping[str, np.ndarray],
    rest_dirs: Mapping[str, np.ndarray],
    root_positions: np.ndarray | None = None,
    *,
    root_rest: np.ndarray | None = None,
    capture_leg_length: float | None = None,
    scale: float | None = None,
    facing: np.ndarray | None = None,
) -> PoseResult:
    """Map segment rotations onto a rig.

    seg_rots: segment -> [T, 4] (w, x, y, z), canonical rest frame -> world at t.
    rest_dirs: segment -> canonical rest direction (unit 3-vector, the T-pose direction head -> tail).
    root_positions: [T, 3] capture pelvis in world (metres); keyed on the first bone of the hips chain.
    root_rest: capture pelvis position in the canonical rest pose (default: origin; the hips move by
      ``scale * (root - root_rest)`` from their rest position).
    scale: root motion scale; default = rig leg length / `capture_leg_length` (1 if either is unknown).
    """
    mapped = [s for s in bonemap if s in seg_rots and s not in FOOT_SEGMENTS and s not in TOE_SEGMENTS]
    if not mapped:
        raise ValueError("no segment of the bone map has a rotation: check the bone map")
    T = len(next(iter(seg_rots.values())))
    c = rig_facing(rig, bonemap) if facing is None else np.asarray(facing, dtype=np.float64)
    g_rest = rig.rest_world_rotations()
    heads, tails = rig.heads_world(), rig.tails_world()

    target: dict[int, np.ndarray] = {}  # bone index -> [T, 3, 3] world orientation
    deltas: dict[str, np.ndarray] = {}
    for seg in mapped:
        chain = _chain_of(rig, bonemap, seg)
        if seg == ROOT_SEGMENT:
            offset = np.eye(3)
        else:
            if seg not in rest_dirs:
                raise KeyError(f"no canonical rest direction for segment {seg!r}")
            d = _chain_end(rig, bonemap, seg, tails[chain[-1]]) - heads[chain[0]]
            if np.linalg.norm(d) < 1e-9:
                raise ValueError(f"bones {bonemap[seg]!r} mapped to {seg!r} have zero length")
            offset = swing(c.T @ d, np.asarray(rest_dirs[seg], dtype=np.float64))
        r = Q.to_matrix(np.asarray(seg_rots[seg], dtype=np.float64))  # [T, 3, 3]
        deltas[seg] = delta = c @ r @ offset @ c.T  # world-space turn applied to the rest chain
        _set_targets(rig, target, chain, delta, g_rest)
    for seg, leader in {**FOOT_SEGMENTS, **TOE_SEGMENTS}.items():
        if seg not in bonemap:
            continue
        if seg in seg_rots:  # pitched feet, bent toes (retarget.feet): turns of the rig's rest bone, no offset
            delta = c @ Q.to_matrix(np.asarray(seg_rots[seg], dtype=np.float64)) @ c.T
        elif seg in FOOT_SEGMENTS and leader in deltas:  # level as at rest, turned with the shin's heading
            delta = heading_turn(deltas[leader])
        else:
            continue
        _set_targets(rig, target, _chain_of(rig, bonemap, seg), delta, g_rest)

    # Bones to solve: mapped ones and all their ancestors, parents first; mapped toes without a rotation of
    # their own are keyed at rest (following the foot), not left in whatever pose the rig was in before.
    at_rest = [
        b for seg in TOE_SEGMENTS if seg in bonemap and seg not in seg_rots for b in _chain_of(rig, bonemap, seg)
    ]
    needed: set[int] = set()
    for b in [*target, *at_rest]:
        i = b
        while i >= 0 and i not in needed:
            needed.add(i)
            i = rig.parents[i]
    depth = {}
    for i in needed:
        d, j = 0, rig.parents[i]
        while j >= 0:
            d, j = d + 1, rig.parents[j]
        depth[i] = d
    order = sorted(needed, key=lambda i: depth[i])

    r_obj = rig.world_rotation
    posed: dict[int, np.ndarray] = {}
    rotations: dict[str, np.ndarray] = {}
    for i in order:
        p = rig.parents[i]
        p_pose = np.broadcast_to(r_obj, (T, 3, 3)) if p < 0 else posed[p]
        p_rest = r_obj if p < 0 else g_rest[p]
        if i in target:
            posed[i] = target[i]
            # L = G_b^-1 G_p P_p^-1 P_b
            local = g_rest[i].T @ p_rest @ np.swapaxes(p_pose, 1, 2) @ target[i]
            rotations[rig.names[i]] = continuous(Q.from_matrix(local))
        elif rig.follows.get(i) in target:
            posed[i] = target[rig.follows[i]]
        else:
            posed[i] = p_pose @ (p_rest.T @ g_rest[i])

    root_bone, root_loc, s = None, None, 1.0 if scale is None else float(scale)
    if ROOT_SEGMENT in bonemap:
        rb = _chain_of(rig, bonemap, ROOT_SEGMENT)[0]
        root_bone = rig.names[rb]
        if scale is None and capture_leg_length:
            rig_leg = leg_length(rig, bonemap)
            if rig_leg:
                s = rig_leg / float(capture_leg_length)
        if root_positions is not None:
            rp = np.asarray(root_positions, dtype=np.float64)
            ref = np.zeros(3) if root_rest is None else np.asarray(root_rest, dtype=np.float64)
            # The capture's root is the pelvis (mid-hips); the rig's root bone may pivot elsewhere and
            # the hips may hang from other keyed bones (Rigify: torso at the lower spine, the pelvis bone
            # below spine_fk.001). Place the root bone so that the posed mid-hips follow the scaled path.
            want = (s * (rp - ref)) @ c.T
            offs = [
                _posed_offset(rig, posed, g_rest, rb, _chain_of(rig, bonemap, k)[0], len(rp))
                for k in ("thigh.L", "thigh.R")
                if k in bonemap
            ]
            if len(offs) == 2 and all(o is not None for o in offs):
                pelvis = 0.5 * (
                    heads[_chain_of(rig, bonemap, "thigh.L")[0]] + heads[_chain_of(rig, bonemap, "thigh.R")[0]]
                )
                head_world = pelvis + want - 0.5 * (offs[0] + offs[1])
            else:
                head_world = heads[rb] + want
            head_world[:, 2] += _floor_lift(rig, bonemap, posed, g_rest, rb, head_world, heads, tails)
            # A connected root bone (BVH imports) cannot move: translate its nearest free ancestor instead.
            lb = rb
            while rig.connected and rig.connected[lb] and rig.parents[lb] >= 0:
                lb = rig.parents[lb]
            root_bone = rig.names[lb]
            inv = np.linalg.inv(rig.world)
            shift_arm = (head_world - heads[rb]) @ inv[:3, :3].T
            # Ancestors of the located bone are keyed at rest: loc = R_rest^T (shift in armature space).
            root_loc = shift_arm @ rig.matrices[lb][:3, :3]
    rest_bones = [rig.names[i] for i in order if i not in target]
    return PoseResult(rotations, root_bone, root_loc, s, c, {rig.names[b]: m for b, m in target.items()}, rest_bones)


def _floor_lift(
    rig: RigRest,
    bonemap: Mapping[str, str | Sequence[str]],
    posed: dict[int, np.ndarray],
    g_rest: np.ndarray,
    root: int,
    root_head: np.ndarray,
    heads: np.ndarray,
    tails: np.ndarray,
) -> np.ndarray:
    """How far [T] (world Z) to raise the root so that no mapped foot or toe bone's tail goes under the rig's
    floor (its rest soles' height, or Z = 0 if they stand above it). Why: the capture's feet are grounded for
    the capture's own leg proportions; a rig with other thigh : shin : foot proportions (Rigify's foot is
    shorter and its ankle lower than ours) can bend a grounded leg a little lower, and a toe under the floor
    is the first thing an animator sees. Zero wherever the feet are already above it. heads, tails: the rig's
    rest bones in world space (pose_rotations has them)."""
    T = len(root_head)
    ends = []  # [T, 3] posed offsets of the foot/toe tails from the root's head; their rest heights
    for seg in (*FOOT_SEGMENTS, *TOE_SEGMENTS):
        if seg not in bonemap:
            continue
        b = _chain_of(rig, bonemap, seg)[-1]
        off = _posed_offset(rig, posed, g_rest, root, b, T) if b in posed else None
        if off is None:
            continue
        ends.append((off + (posed[b] @ g_rest[b].T) @ (tails[b] - heads[b]), tails[b, 2]))
    if not ends:
        return np.zeros(T)
    floor = min(0.0, min(z for _, z in ends))
    lowest = root_head[:, 2] + np.min([o[:, 2] for o, _ in ends], axis=0)
    return np.maximum(floor - lowest, 0.0)


def _set_targets(
    rig: RigRest, target: dict[int, np.ndarray], chain: list[int], delta: np.ndarray, g_rest: np.ndarray
) -> None:
    for b in chain:
        if b in target:
            raise ValueError(f"bone {rig.names[b]!r} is mapped to two segments")
        target[b] = delta @ g_rest[b]


def heading_turn(m: np.ndarray) -> np.ndarray:
    """The part of world rotations [T,3,3] about the vertical (Z) axis (swing-twist decomposition)."""
    up = np.array([0.0, 0.0, 1.0])
    return Q.to_matrix(Q.from_axis_angle(up, Q.twist_angle(Q.from_matrix(m), up)))


def _posed_offset(
    rig: RigRest, posed: dict[int, np.ndarray], g_rest: np.ndarray, root: int, bone: int, T: int
) -> np.ndarray | None:
    """World vector [T,3] from `root`'s head to `bone`'s head in the posed rig (None: not a descendant)."""
    heads = rig.heads_world()
    off = np.zeros((T, 3))
    i = bone
    while i != root:
        p = rig.parents[i]
        if p < 0 or p not in posed:
            return None
        off += (posed[p] @ g_rest[p].T) @ (heads[i] - heads[p])
        i = p
    return off
