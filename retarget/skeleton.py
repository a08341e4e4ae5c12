"""The 17-joint order retarget speaks (Human3.6M / VideoPose3D order, the same as inference/skeleton.py).

retarget never imports inference (it ships standalone), so it keeps its own copy; a test checks they match.
Left/right are the performer's own sides. Pelvis (0) is the root.
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
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
FLIP_PERM: tuple[int, ...] = (0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13)
BONES: tuple[tuple[int, int], ...] = tuple((j, p) for j, p in enumerate(PARENTS) if p >= 0)
INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}

L_ANKLE, R_ANKLE = INDEX["LAnkle"], INDEX["RAnkle"]
FEET: tuple[int, int] = (L_ANKLE, R_ANKLE)  # contact arrays are [T, 2] in this order: left, right
