"""The 17-joint skeleton every stage speaks (Human3.6M order as in VideoPose3D and ../shared/data/mocap).

Left/right are the performer's own sides. Pelvis (0) is the root: 3D outputs are pelvis-relative.
"""

from __future__ import annotations

JOINT_NAMES: tuple[str, ...] = (
    "Pelvis",
    "RHip",
    "RKnee",
    "RAnkle",
    "LHip",
    "LKnee",
    "LAnkle",
    "Spine",
    "Thorax",
    "Neck",
    "Head",
    "LShoulder",
    "LElbow",
    "LWrist",
    "RShoulder",
    "RElbow",
    "RWrist",
)
NUM_JOINTS = len(JOINT_NAMES)
ROOT = 0

# Parent of each joint in the kinematic tree (-1 for the root).
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

# Index permutation that swaps left and right (for flip augmentation / flip test-time augmentation).
FLIP_PERM: tuple[int, ...] = (0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13)

# (child, parent) pairs: the 16 bones.
BONES: tuple[tuple[int, int], ...] = tuple((j, p) for j, p in enumerate(PARENTS) if p >= 0)

INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
