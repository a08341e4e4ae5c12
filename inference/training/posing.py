"""Per-bone world rotations of an Anny rig from 17 target joints (the posing math of `humans`).

Why a segment model: the 17 joints fix each limb's direction exactly but its roll (twist) only through
hinge planes and the hip/shoulder lines, so each segment takes
    * its direction exactly (the line between its joints),
    * its roll from a reference: the hip line (pelvis), the shoulder line (chest), the knee/elbow hinge
      normal cross(upper, lower) while the limb is bent, blended towards the parent's roll (shortest-arc
      swing from the parent) as it straightens; hyper-extended bends are not trusted (parent roll);
    * no information: the parent's roll (neck, head, forearm/shin, hands and toes follow).
Spine bones share the turn from pelvis to chest in equal steps (slerp). Feet are kept near level (a
heading turn with the shin), bent at most `ANKLE_LIMIT` from the shin: left rigid with the shin, toes
would dig into the floor whenever a shin tilts.
Rotations G are world rotations from the rest pose: a rest vector v is posed as G v.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial.transform import Rotation

from ..skeleton import INDEX as J

if TYPE_CHECKING:
    from .humans import AnnyBody

ANKLE_LIMIT = np.radians(45.0)
BEND_SIN = (np.sin(np.radians(8.0)), np.sin(np.radians(25.0)))  # hinge trusted fully above 25 deg
_EPS = 1e-9


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _EPS)


def frame(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Orthonormal frame [..., 3, 3] (columns): a, ref made orthogonal to a, their cross product."""
    e1 = unit(a)
    e2 = unit(ref - np.sum(ref * e1, axis=-1, keepdims=True) * e1)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def align(a0: np.ndarray, ref0: np.ndarray, a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Rotation taking rest direction a0 to a exactly, and rest reference ref0 as near as possible to ref."""
    f0 = frame(np.broadcast_to(a0, a.shape), np.broadcast_to(ref0, ref.shape))
    return frame(a, ref) @ np.swapaxes(f0, -1, -2)


def swing(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Shortest-arc rotations [T, 3, 3] taking directions u to v (antiparallel: a half turn about a normal)."""
    u, v = unit(u), unit(v)
    axis = np.cross(u, v)
    s = np.linalg.norm(axis, axis=-1)
    c = np.sum(u * v, axis=-1)
    anti = (s < 1e-6) & (c < 0)
    if np.any(anti):  # any axis perpendicular to u
        alt = np.where(np.abs(u[anti, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
        axis[anti] = np.cross(u[anti], alt)
    rotvec = unit(axis) * np.arctan2(s, c)[:, None]
    rotvec[anti] = unit(axis[anti]) * np.pi
    return Rotation.from_rotvec(rotvec).as_matrix()


def swing_from(parent: np.ndarray, a0: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The parent's rotation followed by the shortest swing of the (parent-rotated) rest direction onto a."""
    return swing(np.einsum("tij,j->ti", parent, a0), a) @ parent


def toward(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-frame geodesic blend from rotations a to b by weights w [T] in [0, 1]."""
    rel = Rotation.from_matrix(b @ np.swapaxes(a, -1, -2)).as_rotvec()
    return Rotation.from_rotvec(rel * np.asarray(w)[:, None]).as_matrix() @ a


def hinged(
    parent: np.ndarray, upper0: np.ndarray, lower0: np.ndarray, hinge0: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> np.ndarray:
    """Upper-limb rotation: exact direction, roll from the hinge normal while bent (module docstring)."""
    fallback = swing_from(parent, upper0, upper)
    normal = np.cross(unit(upper), unit(lower))
    sin_bend = np.linalg.norm(normal, axis=-1)
    bent = align(upper0, hinge0, upper, normal)
    w = np.clip((sin_bend - BEND_SIN[0]) / (BEND_SIN[1] - BEND_SIN[0]), 0.0, 1.0)
    same_side = np.sum(normal * np.einsum("tij,j->ti", fallback, hinge0), axis=-1) > 0
    return toward(fallback, bent, np.where(same_side, w, 0.0))


def level_foot(body: AnnyBody, side: str, shin: np.ndarray) -> np.ndarray:
    """Foot rotation: the shin's heading turn about world Z, bent at most ANKLE_LIMIT from the shin."""
    fwd0 = body.rest_heads[body.bone(f"toe3-1.{side}")] - body.rest_heads[body.bone(f"foot.{side}")]
    fwd0 = unit(fwd0 * [1.0, 1.0, 0.0])
    fwd = np.einsum("tij,j->ti", shin, fwd0) * [1.0, 1.0, 0.0]
    flat = swing(
        np.broadcast_to(fwd0, fwd.shape), np.where(np.linalg.norm(fwd, axis=-1, keepdims=True) > 1e-3, fwd, fwd0)
    )
    angle = np.linalg.norm(Rotation.from_matrix(flat @ np.swapaxes(shin, -1, -2)).as_rotvec(), axis=-1)
    return toward(shin, flat, np.minimum(1.0, ANKLE_LIMIT / np.maximum(angle, _EPS)))


def segment_rotations(body: AnnyBody, target: np.ndarray) -> dict[str, np.ndarray]:
    """Bone name -> [T, 3, 3] world rotation for the driven bones; the others follow their parent."""
    r, t = body.rest_joints, target
    up0, up = r[J["Thorax"]] - r[J["Pelvis"]], t[:, J["Thorax"]] - t[:, J["Pelvis"]]
    pelvis = align(up0, r[J["LHip"]] - r[J["RHip"]], up, t[:, J["LHip"]] - t[:, J["RHip"]])
    chest = align(up0, r[J["LShoulder"]] - r[J["RShoulder"]], up, t[:, J["LShoulder"]] - t[:, J["RShoulder"]])
    g: dict[str, np.ndarray] = {"root": pelvis}
    n = len(body.spine_bones)
    for k, name in enumerate(body.spine_bones):
        g[name] = toward(pelvis, chest, np.full(len(t), (k + 1) / n))
    lateral0 = unit(r[J["LHip"]] - r[J["RHip"]])
    for s, side in (("L", "L"), ("R", "R")):
        hip, knee, ankle = J[f"{s}Hip"], J[f"{s}Knee"], J[f"{s}Ankle"]
        thigh = hinged(
            pelvis, r[knee] - r[hip], r[ankle] - r[knee], lateral0, t[:, knee] - t[:, hip], t[:, ankle] - t[:, knee]
        )
        shin = swing_from(thigh, r[ankle] - r[knee], t[:, ankle] - t[:, knee])
        g[f"upperleg01.{side}"] = g[f"upperleg02.{side}"] = thigh
        g[f"lowerleg01.{side}"] = g[f"lowerleg02.{side}"] = shin
        g[f"foot.{side}"] = level_foot(body, side, shin)
        sh, el, wr = J[f"{s}Shoulder"], J[f"{s}Elbow"], J[f"{s}Wrist"]
        u0, f0 = r[el] - r[sh], r[wr] - r[el]
        upper = hinged(chest, u0, f0, unit(np.cross(u0, f0)), t[:, el] - t[:, sh], t[:, wr] - t[:, el])
        g[f"upperarm01.{side}"] = g[f"upperarm02.{side}"] = upper
        g[f"lowerarm01.{side}"] = g[f"lowerarm02.{side}"] = swing_from(upper, f0, t[:, wr] - t[:, el])
    neck = swing_from(chest, r[J["Neck"]] - r[J["Thorax"]], t[:, J["Neck"]] - t[:, J["Thorax"]])
    for name in ("neck01", "neck02", "neck03"):
        g[name] = neck
    g["head"] = swing_from(neck, r[J["Head"]] - r[J["Neck"]], t[:, J["Head"]] - t[:, J["Neck"]])
    return g
