"""Forward kinematics over the 17-joint segment tree: (rest skeleton, segment rotations, root) -> joints.

Used by the tests (retarget -> FK -> compare with the input) and by rig-mapping checks.
"""

from __future__ import annotations

import numpy as np

from . import quat
from .segments import JOINT_SEGMENT, SEGMENTS, bone_lengths, rest_offsets
from .skeleton import NUM_JOINTS, PARENTS


def forward_kinematics(rest_joints: np.ndarray, rotations: dict[str, np.ndarray], root: np.ndarray) -> np.ndarray:
    """rest_joints [17,3] canonical T-pose, rotations {segment: [T,4]}, root [T,3] pelvis -> joints [T,17,3].

    Each joint = its parent joint + (its segment's rotation) applied to its rest offset.
    """
    rest = np.asarray(rest_joints, dtype=np.float64)
    root = np.asarray(root, dtype=np.float64)
    mats = {n: quat.to_matrix(rotations[n]) for n in SEGMENTS}
    out = np.zeros((root.shape[0], NUM_JOINTS, 3))
    out[:, 0] = root
    for j in range(1, NUM_JOINTS):
        off = rest[j] - rest[PARENTS[j]]
        out[:, j] = out[:, PARENTS[j]] + mats[JOINT_SEGMENT[j]] @ off
    return out


def normalize_bone_lengths(joints: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Rebuild joints [T,17,3] along the tree with fixed bone lengths [17] (default: their robust medians),
    keeping every bone's direction and the pelvis position. The hip pair stays symmetric about the pelvis."""
    j = np.asarray(joints, dtype=np.float64)
    lengths = bone_lengths(j) if lengths is None else np.asarray(lengths, dtype=np.float64)
    out = np.empty_like(j)
    out[:, 0] = j[:, 0]
    for k in range(1, NUM_JOINTS):
        p = PARENTS[k]
        d = quat.normalize(j[:, k] - j[:, p])
        out[:, k] = out[:, p] + d * lengths[k]
    return out


__all__ = ["forward_kinematics", "normalize_bone_lengths", "rest_offsets"]
