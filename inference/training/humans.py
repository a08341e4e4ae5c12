"""Anny body meshes posed from 17-joint mocap, with the exact 17 joints of the posed body.

Why: rendered humans give MediaPipe real pixels to detect, and the body's own joints are the exact labels.
The mocap only drives bone *directions*; bone lengths are Anny's (its shape), so the pairs' 3D joints are
Anny's posed joint centres, never the mocap's.

World frame: Z up (Anny's and Blender's); mocap (+Y up) is turned by +90 deg about X (`yup_to_zup`).
Anny's rest pose faces -Y, its left (".L" bones) is +X, arms in an A-pose.

The 17 joints from Anny's rig (bone heads of the "anny" rig, posed by forward kinematics):
    R/LHip = upperleg01.R/L, R/LKnee = lowerleg01.R/L, R/LAnkle = foot.R/L,
    R/LShoulder = upperarm01.R/L (gleno-humeral centre; shoulder01 is the acromion end of the clavicle),
    R/LElbow = lowerarm01.R/L, R/LWrist = wrist.R/L,
    Neck = head (the skull base, top of neck03: the "head-base joint" of the mocap's canonical Neck),
    Head = 2/3 of the way from Neck to the crown vertex (~10 cm above the skull base on an adult, like the
           mocap sources' 92-119 mm; the crown itself is kept as `head_top`),
    Pelvis, Thorax, Spine: hip midpoint, shoulder midpoint, their midpoint (the mocap's canonical targets).
Twist bones (upperleg02, lowerleg02, upperarm02, lowerarm02) turn with their limb segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..skeleton import INDEX, NUM_JOINTS
from . import render_plan as rp
from .cameras import Cameras

J = INDEX
JOINT_BONES: dict[str, str] = {
    "RHip": "upperleg01.R",
    "RKnee": "lowerleg01.R",
    "RAnkle": "foot.R",
    "LHip": "upperleg01.L",
    "LKnee": "lowerleg01.L",
    "LAnkle": "foot.L",
    "LShoulder": "upperarm01.L",
    "LElbow": "lowerarm01.L",
    "LWrist": "wrist.L",
    "RShoulder": "upperarm01.R",
    "RElbow": "lowerarm01.R",
    "RWrist": "wrist.R",
    "Neck": "head",
}
HEAD_FRACTION = 2.0 / 3.0  # Head = Neck + HEAD_FRACTION * (crown - Neck)
CROWN_VERTEX = 881  # top of the skull on the default "anny" topology (max Z of the rest mesh)
SPINE_BONES = ("spine05", "spine04", "spine03", "spine02", "spine01")  # pelvis -> chest
PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")
_YUP_TO_ZUP = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])

_MODEL: object | None = None


def yup_to_zup(j: np.ndarray) -> np.ndarray:
    """Mocap (+Y up) -> Z-up world: x stays, y -> z, z -> -y (a proper rotation)."""
    return np.asarray(j, dtype=np.float64) @ _YUP_TO_ZUP.T


def zup_to_yup(x: np.ndarray) -> np.ndarray:
    """Blender / Anny Z-up world -> the mocap's +Y-up world (inverse of `yup_to_zup`)."""
    return np.asarray(x, dtype=np.float64) @ _YUP_TO_ZUP


def _pheno_tensors(phenotype: dict[str, float]) -> dict[str, torch.Tensor]:
    """Phenotype values as the batch-of-one tensors Anny's forward takes."""
    return {k: torch.tensor([v], dtype=torch.float64) for k, v in phenotype.items()}


def anny_model():
    """The Anny model (loaded once per process: ~1 s from anny's cache, ~45 s the very first time)."""
    global _MODEL
    if _MODEL is None:
        import os

        os.environ.setdefault("WARP_LOG_LEVEL", "error")
        import anny  # noqa: PLC0415 - heavy import kept off module import

        # dense LBS in torch: no Warp kernel compilation, fast enough for a few frames at a time
        _MODEL = anny.Anny(pose_parameterization="world-orient", skinning_method="lbs")
    return _MODEL


@dataclass
class Posed:
    """One body posed over T frames (world, Z up, metres)."""

    vertices: np.ndarray  # [T, V, 3]
    faces: np.ndarray  # [F, 3] triangles
    joints: np.ndarray  # [T, 17, 3] exact joints (module docstring)
    head_top: np.ndarray  # [T, 3] crown vertex
    bone_heads: np.ndarray  # [T, 104, 3]


class AnnyBody:
    """One Anny shape: its rest rig, and posing it from mocap joints."""

    spine_bones = SPINE_BONES

    def __init__(self, phenotype: dict[str, float] | None = None) -> None:
        self.model = anny_model()
        self.phenotype = {k: float(v) for k, v in (phenotype or {}).items()}
        self.names: list[str] = list(self.model.bone_labels)
        self.parents = np.asarray(self.model.bone_parents, dtype=np.int64)
        with torch.no_grad():
            rest = self.model(phenotype_kwargs=self._pheno())
        self.rest_rot = rest["rest_bone_poses"][0, :, :3, :3].numpy().astype(np.float64)
        self.rest_heads = rest["rest_bone_heads"][0].numpy().astype(np.float64)
        self.rest_vertices = rest["rest_vertices"][0].numpy().astype(np.float64)
        self.faces = np.asarray(self.model.faces, dtype=np.int64)
        if self.faces.shape[1] != 3:
            self.faces = np.asarray(self.model.get_triangular_faces(), dtype=np.int64)
        self.rest_joints = self.joints_from(self.rest_heads[None], self.rest_vertices[None, CROWN_VERTEX])[0]

    def face_bones(self) -> list[str]:
        """Dominant bone of each face (summed skinning weights of its corners): for clothing colours."""
        idx = np.asarray(self.model.vertex_bone_indices, dtype=np.int64)
        w = np.asarray(self.model.vertex_bone_weights, dtype=np.float64)
        dense = np.zeros((len(idx), len(self.names)))
        np.add.at(dense, (np.arange(len(idx))[:, None], idx), w)
        best = dense[self.faces].sum(axis=1).argmax(axis=1)
        return [self.names[b] for b in best]

    def _pheno(self) -> dict[str, torch.Tensor]:
        return _pheno_tensors(self.phenotype)

    def bone(self, name: str) -> int:
        return self.names.index(name)

    def joints_from(self, heads: np.ndarray, crown: np.ndarray) -> np.ndarray:
        """Bone heads [T, 104, 3] and crown [T, 3] -> the 17 joints [T, 17, 3] (module docstring)."""
        out = np.zeros(heads.shape[:1] + (NUM_JOINTS, 3))
        for joint, bone in JOINT_BONES.items():
            out[:, J[joint]] = heads[:, self.bone(bone)]
        out[:, J["Head"]] = out[:, J["Neck"]] + HEAD_FRACTION * (crown - out[:, J["Neck"]])
        out[:, J["Pelvis"]] = 0.5 * (out[:, J["LHip"]] + out[:, J["RHip"]])
        out[:, J["Thorax"]] = 0.5 * (out[:, J["LShoulder"]] + out[:, J["RShoulder"]])
        out[:, J["Spine"]] = 0.5 * (out[:, J["Pelvis"]] + out[:, J["Thorax"]])
        return out

    @property
    def leg_length(self) -> float:
        r = self.rest_joints
        return float(
            np.mean(
                [
                    np.linalg.norm(r[J[k]] - r[J[h]]) + np.linalg.norm(r[J[a]] - r[J[k]])
                    for h, k, a in (("LHip", "LKnee", "LAnkle"), ("RHip", "RKnee", "RAnkle"))
                ]
            )
        )

    def pose(self, target: np.ndarray, root: np.ndarray | None = None) -> Posed:
        """Pose to target joints [T, 17, 3] (Z up; only directions are used). root: [T, 3] world position of
        the posed Pelvis (default: the target's Pelvis)."""
        from .posing import segment_rotations  # noqa: PLC0415

        target = np.asarray(target, dtype=np.float64)
        g = segment_rotations(self, target)  # bone -> [T, 3, 3] world rotation from rest
        n_t = len(target)
        world = np.zeros((n_t, len(self.names), 3, 3))
        for b, p in enumerate(self.parents):  # parents come first in Anny's bone order
            world[:, b] = g[self.names[b]] if self.names[b] in g else world[:, p]
        d = np.einsum("tbij,bjk->tbik", world, self.rest_rot)  # world-orient: bone world orientations
        root = target[:, J["Pelvis"]] if root is None else np.asarray(root, dtype=np.float64)
        pelvis_off = self.rest_joints[J["Pelvis"]] - self.rest_heads[0]
        deltas = np.tile(np.eye(4), (n_t, len(self.names), 1, 1))
        deltas[:, :, :3, :3] = d
        deltas[:, 0, :3, 3] = root - world[:, 0] @ pelvis_off
        with torch.no_grad():
            out = self.model(pose_parameters=torch.from_numpy(deltas), phenotype_kwargs=self._pheno())
        verts = out["vertices"].numpy().astype(np.float64)
        heads = out["bone_poses"][:, :, :3, 3].numpy().astype(np.float64)
        crown = verts[:, CROWN_VERTEX]
        return Posed(verts, self.faces, self.joints_from(heads, crown), crown, heads)


def stature(phenotype: dict[str, float]) -> float:
    """Crown-to-sole height (m) of Anny's rest mesh for a phenotype."""
    model = anny_model()
    with torch.no_grad():
        z = model(phenotype_kwargs=_pheno_tensors(phenotype))
    v = z["rest_vertices"][0, :, 2]
    return float(v.max() - v.min())


def fit_height(phenotype: dict[str, float], target_m: float, iters: int = 14) -> dict[str, float]:
    """The phenotype with its "height" set (bisection in [0, 1]; stature grows with it) so the body stands
    `target_m` tall, or as near as Anny's range allows."""
    lo, hi = 0.0, 1.0
    out = dict(phenotype)
    for _ in range(iters):
        out["height"] = 0.5 * (lo + hi)
        lo, hi = (out["height"], hi) if stature(out) < target_m else (lo, out["height"])
    out["height"] = 0.5 * (lo + hi)
    return out


def body_for_plan(plan) -> AnnyBody:
    """The plan's body: its phenotype, with the height fitted to its stature when it has one (the plan's
    phenotype is updated, so what is saved is what was rendered)."""
    if getattr(plan, "stature_m", None):
        plan.phenotype = fit_height(plan.phenotype, plan.stature_m)
    return AnnyBody(plan.phenotype)


def mocap_leg_length(joints: np.ndarray) -> float:
    """Median hip-knee-ankle length over a clip [T, 17, 3] (both legs)."""
    legs = [
        np.linalg.norm(joints[:, J[k]] - joints[:, J[h]], axis=-1)
        + np.linalg.norm(joints[:, J[a]] - joints[:, J[k]], axis=-1)
        for h, k, a in (("LHip", "LKnee", "LAnkle"), ("RHip", "RKnee", "RAnkle"))
    ]
    return float(np.median(np.concatenate(legs)))


def pose_clip(body: AnnyBody, mocap_zup: np.ndarray, chunk: int = 48, ground_q: float = 10.0) -> Posed:
    """Pose a whole window of mocap frames [T, 17, 3] (Z up) on `body`: the root path is scaled by the leg
    length ratio (feet slide as little as the mocap's), then the body is set on the floor Z = 0 by the
    `ground_q` percentile of its per-frame lowest vertex (jumps stay jumps; a glitch frame cannot lift it)."""
    scale = body.leg_length / max(mocap_leg_length(mocap_zup), 1e-3)
    root = mocap_zup[:, J["Pelvis"]] * scale
    parts = [body.pose(mocap_zup[i : i + chunk], root[i : i + chunk]) for i in range(0, len(mocap_zup), chunk)]
    posed = Posed(
        np.concatenate([p.vertices for p in parts]),
        body.faces,
        np.concatenate([p.joints for p in parts]),
        np.concatenate([p.head_top for p in parts]),
        np.concatenate([p.bone_heads for p in parts]),
    )
    dz = -float(np.percentile(posed.vertices[..., 2].min(axis=1), ground_q))
    for arr in (posed.vertices, posed.joints, posed.head_top, posed.bone_heads):
        arr[..., 2] += dz
    return posed


@dataclass
class Shot:
    """One clip as `addon.render_humans` films it (and `evaluate_posed` scores it): one place for the setup, so
    the cheap evaluation sees exactly the bodies and cameras the renders do."""

    plan: rp.ClipPlan
    body: AnnyBody
    posed: Posed  # the dense window, Z up
    key_rel: np.ndarray  # key-frames as indices into the window
    joints_yup: np.ndarray  # [T, 17, 3] posed joints in the mocap's +Y-up world
    head_top_yup: np.ndarray  # [T, 3]
    camera: Cameras  # one static camera (+Y-up world)


def plan_shot(clip, seed: int = 0, max_keys: int = 24, size: tuple[int, int] | None = None, fps: float = 30.0) -> Shot:
    """Plan a clip (`render_plan.plan_clip`; its joints sampled at `fps`), pose its body on the dense window
    and pick the camera that frames the key-frames (crown included). size overrides the plan's image size."""
    plan = rp.plan_clip(clip.name, len(clip.joints), seed=seed, max_keys=max_keys, fps=fps)
    if size is not None:
        plan.size = (int(size[0]), int(size[1]))
    body = body_for_plan(plan)
    posed = pose_clip(body, yup_to_zup(clip.joints[plan.dense_frames]))
    key_rel = plan.key_frames - plan.start
    joints, head_top = zup_to_yup(posed.joints), zup_to_yup(posed.head_top)
    cam = rp.sample_camera(plan, np.concatenate([joints[key_rel], head_top[key_rel, None]], axis=1))
    return Shot(plan, body, posed, key_rel, joints, head_top, cam)
