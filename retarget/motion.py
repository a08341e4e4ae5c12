"""High-level pure entry point: camera-space joints (+ optional 2D) -> a world-space Motion.

Steps (each in its own module): fill gaps and smooth the pelvis-relative joints (smoothing), fix bone
lengths to their robust medians (segments/fk), estimate the root in camera coordinates from the 2D
key-frames (root), find up and heading (coords), put the floor at Z = 0 from the standing ankle height
(contact), detect foot contacts, pin planted feet (contact.lock_feet), keep everything above the floor
(contact.ground), and finally compute the segment rotations that rig mapping keys (segments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import contact, coords, root as rootmod, smoothing
from .fk import normalize_bone_lengths
from .segments import bone_lengths, rest_skeleton, world_rotations
from .skeleton import FEET, NUM_JOINTS


@dataclass
class RetargetOptions:
    smoothing: str = "butterworth"  # "butterworth" (zero-phase, offline) | "one_euro" | "none"
    cutoff_hz: float = 6.0  # Butterworth cutoff for the joints
    one_euro_min_cutoff: float = 1.0  # Hz
    one_euro_beta: float = 10.0  # 1/m: cutoff rises by beta * speed (m/s)
    one_euro_d_cutoff: float = 1.0  # Hz
    root_motion: str = "full"  # "full" | "in_place" (no horizontal motion, keeps vertical) | "none"
    root_cutoff_hz: float = 2.0  # smoothing of the monocular root (depth is noisy)
    foot_lock: bool = True
    ground: bool = True
    fov_deg: float = rootmod.DEFAULT_FOV_DEG  # assumed field of view across the longer image side
    ankle_height: float = 0.08  # ankle joint centre above the sole when standing (m)
    up: str = "auto"  # "auto" (from the body and the floor) | "camera" (assume a level camera)
    facing: str = "camera"  # "camera": the camera looks along +Y | "first": first second faces -Y

    def validate(self) -> None:
        for name, value, allowed in (
            ("smoothing", self.smoothing, ("butterworth", "one_euro", "none")),
            ("root_motion", self.root_motion, ("full", "in_place", "none")),
            ("up", self.up, ("auto", "camera")),
            ("facing", self.facing, ("camera", "first")),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if self.cutoff_hz <= 0 or self.root_cutoff_hz <= 0:
            raise ValueError("cutoff frequencies must be positive")


@dataclass
class FloorInfo:
    cam_to_world: np.ndarray  # [3,3] rotation applied to camera-coordinate vectors
    up_cam: np.ndarray  # [3] world up in camera coordinates
    up_method: str  # "body", "body+floor", "level" or "camera"
    camera_height: float  # camera centre height above the floor (m; NaN without a 2D root)
    ankle_height: float


@dataclass
class Motion:
    joints: np.ndarray  # [T,17,3] world, floor Z=0, after smoothing / locking / grounding (fixed bone lengths)
    root: np.ndarray  # [T,3] pelvis position (= joints[:, 0])
    rotations: dict[str, np.ndarray]  # segment -> [T,4] (w,x,y,z) world rotations from the rest pose
    bone_lengths: np.ndarray  # [17] per joint (to its parent)
    rest_joints: np.ndarray  # [17,3] canonical T-pose with these lengths, pelvis at the origin
    contacts: np.ndarray  # [T,2] bool, (left, right) foot
    floor: FloorInfo
    fps: float
    root_source: str  # "2d", "feet" (contact odometry: no 2D) or "none"
    warnings: list[str] = field(default_factory=list)


def _check_inputs(j: np.ndarray, fps: float, points2d: np.ndarray | None, image_size: tuple[int, int] | None) -> None:
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3) or j.shape[0] < 1:
        raise ValueError(f"joints3d must be [T, {NUM_JOINTS}, 3], got {j.shape}")
    if not np.isfinite(j).any(axis=(1, 2)).any():
        raise ValueError("joints3d has no finite frame")
    if not fps or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if points2d is not None:
        if image_size is None:
            raise ValueError("points2d given without image_size (w, h)")
        if np.shape(points2d) != (j.shape[0], NUM_JOINTS, 2):
            raise ValueError(f"points2d must be [{j.shape[0]}, {NUM_JOINTS}, 2], got {np.shape(points2d)}")


def retarget_motion(
    joints3d_cam: np.ndarray,
    *,
    fps: float,
    points2d: np.ndarray | None = None,
    image_size: tuple[int, int] | None = None,
    options: RetargetOptions | None = None,
) -> Motion:
    """Pelvis-relative camera-space joints [T,17,3] (+ optional 2D [T,17,2] px and image (w, h)) -> Motion."""
    opt = options or RetargetOptions()
    opt.validate()
    raw = np.asarray(joints3d_cam, dtype=np.float64)
    _check_inputs(raw, fps, points2d, image_size)
    warnings: list[str] = []
    T = raw.shape[0]

    rel = raw - raw[:, :1]
    rel = smoothing.smooth(
        rel, fps, opt.smoothing, opt.cutoff_hz, opt.one_euro_min_cutoff, opt.one_euro_beta, opt.one_euro_d_cutoff
    )
    lengths = bone_lengths(rel)
    rel = normalize_bone_lengths(rel, lengths)
    rel[:, 0] = 0.0

    # Root in camera coordinates from 2D key-frames.
    root_cam = None
    if points2d is not None:
        focal = rootmod.focal_from_fov(image_size, opt.fov_deg)
        keys = rootmod.solve_root(rel, points2d, image_size, focal)
        nkeys = int(np.isfinite(keys).all(1).sum())
        if nkeys >= 1:
            root_cam = rootmod.interpolate_keys(keys)
            key_rate = fps * nkeys / T
            root_cam = smoothing.butterworth(root_cam, fps, min(opt.root_cutoff_hz, key_rate))
        else:
            warnings.append("no frame had enough 2D joints to place the root: root motion from the feet")

    # Up and heading.
    if opt.up == "camera":
        up_cam, up_method = coords.CAMERA_UP.copy(), "camera"
    else:
        up_cam, up_method = coords.body_up(rel)
    if up_method == "level":
        warnings.append(
            "too few upright frames to measure the camera tilt from the body: assuming a level "
            "camera" + (" (refined by the floor where the feet moved)" if root_cam is not None else "")
        )

    def world_abs(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = coords.cam_to_world_matrix(up)
        rel_w = coords.to_world(rel, r)
        base = coords.to_world(root_cam, r) if root_cam is not None else np.zeros((T, 3))
        return r, rel_w + base[:, None]

    r_cw, absw = world_abs(up_cam)
    ank = absw[:, list(FEET)]
    if root_cam is not None:
        level = contact.floor_level(ank[..., 2], fps, ank[..., :2])
        if opt.up == "auto":  # refine up with the plane the standing feet walk on
            up_cam = coords.floor_up(root_cam[:, None] + rel[:, list(FEET)], up_cam)
            up_method += "+floor"
            r_cw, absw = world_abs(up_cam)
            ank = absw[:, list(FEET)]
            level = contact.floor_level(ank[..., 2], fps, ank[..., :2])
        absw[..., 2] -= level - opt.ankle_height
        camera_height = float(opt.ankle_height - level)
        contacts = contact.detect_contacts(absw[:, list(FEET)], fps, opt.ankle_height)
        root_source = "2d"
    else:
        # No 2D: the lower foot stands on the floor; horizontal motion from the planted feet.
        lowest = absw[:, list(FEET), 2].min(axis=1)
        absw[..., 2] += (opt.ankle_height - smoothing.butterworth(lowest, fps, opt.root_cutoff_hz))[:, None]
        contacts = contact.detect_contacts(absw[:, list(FEET)], fps, opt.ankle_height, use_speed=False)
        camera_height = float("nan")
        root_source = "feet"
        if opt.root_motion == "full":
            absw[..., :2] += rootmod.odometry_root(absw - absw[:, :1], contacts, FEET)[:, None]

    if opt.facing == "first":
        n = max(1, min(T, int(round(fps))))
        yaw = float(np.median(coords.facing_yaw(absw[:n])))
        rz = coords.yaw_matrix(-yaw)
        origin = absw[0, 0] * [1, 1, 0]
        absw = (absw - origin) @ rz.T
        r_cw = rz @ r_cw

    if opt.root_motion == "full":
        if opt.foot_lock:
            absw = contact.lock_feet(absw, contacts, fps, opt.ankle_height)
    elif opt.root_motion == "in_place":
        absw[..., :2] -= absw[:, :1, :2]
    else:  # "none": pelvis fixed at its median height
        absw -= absw[:, :1] - [0.0, 0.0, float(np.median(absw[:, 0, 2]))]
        root_source = "none"
    if opt.ground:
        absw, _ = contact.ground(absw, fps, opt.ankle_height)

    floor = FloorInfo(r_cw, up_cam, up_method, camera_height, opt.ankle_height)
    return Motion(
        joints=absw,
        root=absw[:, 0].copy(),
        rotations=world_rotations(absw),
        bone_lengths=lengths,
        rest_joints=rest_skeleton(lengths),
        contacts=contacts,
        floor=floor,
        fps=float(fps),
        root_source=root_source,
        warnings=warnings,
    )
