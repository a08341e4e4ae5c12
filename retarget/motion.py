"""High-level pure entry point: camera-space joints (+ optional 2D) -> a world-space Motion.

Steps (each in its own module): fill gaps and smooth the pelvis-relative joints (smoothing), fix bone
lengths to their robust medians (segments/fk), estimate the root in camera coordinates from the 2D
key-frames (root), find up -- the camera's pitch and roll -- (gravity) and the heading (coords), put the
floor at Z = 0 from the standing ankle height (contact), detect foot contacts, pin planted feet
(contact.lock_feet), keep everything above the floor (contact.ground), and finally compute the segment
rotations that rig mapping keys (segments)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import contact, coords, gravity, smoothing
from . import root as rootmod
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
    fov_deg: float | None = None  # field of view across the longer image side; None: assume 60, measure it
    ankle_height: float = contact.ANKLE_HEIGHT  # ankle joint centre above the sole when standing (m)
    up: str = "auto"  # "auto" (gravity.estimate_up) | "camera" (= assume_level)
    assume_level: bool = False  # trust a level camera: up is the image's up
    camera_pitch: float | None = None  # deg, + = looking up: overrides the estimated pitch
    camera_roll: float | None = None  # deg, + = turned counter-clockwise seen from behind: overrides the roll
    facing: str = "camera"  # "camera": the camera looks along +Y | "first": first second faces -Y
    hands: str = "wrists"  # "off": wrists not driven | "wrists" | "fingers": also key the finger bones
    head: bool = True  # head and neck from the face landmarks (retarget.extremities; needs world33)
    foot_pitch: bool = True  # foot pitch from the heel and toe landmarks (retarget.extremities)

    def validate(self) -> None:
        for name, value, allowed in (
            ("smoothing", self.smoothing, ("butterworth", "one_euro", "none")),
            ("root_motion", self.root_motion, ("full", "in_place", "none")),
            ("up", self.up, ("auto", "camera")),
            ("facing", self.facing, ("camera", "first")),
            ("hands", self.hands, ("off", "wrists", "fingers")),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if self.cutoff_hz <= 0 or self.root_cutoff_hz <= 0:
            raise ValueError("cutoff frequencies must be positive")
        for name, value in (("camera_pitch", self.camera_pitch), ("camera_roll", self.camera_roll)):
            if value is not None and not -89.0 <= float(value) <= 89.0:
                raise ValueError(f"{name} must be between -89 and 89 degrees, got {value}")


@dataclass
class FloorInfo:
    cam_to_world: np.ndarray  # [3,3] rotation applied to camera-coordinate vectors
    up_cam: np.ndarray  # [3] world up in camera coordinates
    up_method: str  # cues that found it ("balance+upright+floor", ...), "level", "assumed level" or "override"
    camera_height: float  # camera centre height above the floor (m; NaN without a 2D root)
    ankle_height: float
    pitch_deg: float = 0.0  # camera pitch against the floor (+ = looking up)
    roll_deg: float = 0.0  # camera roll (+ = counter-clockwise seen from behind the camera)
    up_sigma_deg: float = 0.0  # one-sigma uncertainty of up (0 when set by the user)
    up_confidence: float = 1.0  # 0..1 (gravity.UpEstimate.confidence); 1 when set by the user
    fov_deg: float = float("nan")  # field of view (longer side) the root was solved with: assumed or measured

    def describe(self) -> str:
        how = self.up_method if self.up_method in ("override", "assumed level") else f"estimated from {self.up_method}"
        sure = "" if self.up_method in ("override", "assumed level") else f", +-{self.up_sigma_deg:.1f} deg"
        return f"Camera pitch {self.pitch_deg:+.1f} deg, roll {self.roll_deg:+.1f} deg ({how}{sure})"


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


def _root(
    rel: np.ndarray, points2d: np.ndarray, image_size: tuple[int, int], focal: float, fps: float, cutoff: float
) -> np.ndarray | None:
    """Pelvis track [T,3] in camera coordinates from the 2D key-frames (None: no key-frame usable)."""
    keys = rootmod.solve_root(rel, points2d, image_size, focal)
    nkeys = int(np.isfinite(keys).all(1).sum())
    if nkeys < 1:
        return None
    key_rate = fps * nkeys / len(rel)
    return smoothing.butterworth(rootmod.interpolate_keys(keys), fps, min(cutoff, key_rate))


def choose_up(
    rel: np.ndarray,
    fps: float,
    feet_cam: np.ndarray | None,
    points2d: np.ndarray | None,
    opt: RetargetOptions,
    path_cam: np.ndarray | None = None,
) -> gravity.UpEstimate:
    """The user's choice wins: a level camera, or pitch and/or roll set (the other one still estimated).

    Gravity works on the joints before bone lengths are made symmetric, which would tilt the ankle line
    of a body with unequal legs."""
    pitch_set, roll_set = opt.camera_pitch, opt.camera_roll
    if opt.assume_level or opt.up == "camera":
        if pitch_set is None and roll_set is None:
            return gravity.UpEstimate(gravity.CAMERA_UP.copy(), "assumed level", 0.0)
        pitch_set, roll_set = pitch_set or 0.0, roll_set or 0.0  # level except what the user set
    if pitch_set is not None and roll_set is not None:
        return gravity.UpEstimate(gravity.up_from_pitch_roll(pitch_set, roll_set), "override", 0.0)
    est = gravity.estimate_up(rel, fps, feet_cam, points2d, measure_focal=opt.fov_deg is None, path_cam=path_cam)
    if opt.camera_pitch is None and opt.camera_roll is None:
        return est
    pitch, roll = est.pitch_deg, est.roll_deg
    pitch = pitch if pitch_set is None else float(pitch_set)
    roll = roll if roll_set is None else float(roll_set)
    return gravity.UpEstimate(gravity.up_from_pitch_roll(pitch, roll), "override", 0.0, est.cues)


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
    smoothed = smoothing.smooth(
        rel, fps, opt.smoothing, opt.cutoff_hz, opt.one_euro_min_cutoff, opt.one_euro_beta, opt.one_euro_d_cutoff
    )
    lengths = bone_lengths(smoothed)
    rel = normalize_bone_lengths(smoothed, lengths)
    rel[:, 0] = 0.0

    # Root in camera coordinates from 2D key-frames.
    root_cam = None
    fov = rootmod.DEFAULT_FOV_DEG if opt.fov_deg is None else opt.fov_deg
    focal = rootmod.focal_from_fov(image_size, fov) if points2d is not None else float("nan")
    if points2d is not None:
        root_cam = _root(rel, points2d, image_size, focal, fps, opt.root_cutoff_hz)
        if root_cam is None:
            warnings.append("no frame had enough 2D joints to place the root: root motion from the feet")

    # Up: estimated from the body, the 2D and the floor, or set by the user.
    feet_cam = root_cam[:, None] + smoothed[:, list(FEET)] if root_cam is not None else None
    est = choose_up(smoothed, fps, feet_cam, points2d, opt, root_cam)
    up_cam = est.up_cam
    if root_cam is not None and abs(est.depth_scale - 1.0) > 1e-6:  # the floor measured the focal length
        focal *= est.depth_scale
        root_cam = _root(rel, points2d, image_size, focal, fps, opt.root_cutoff_hz)
    if est.dropped:
        warnings.append(
            f"The {' and '.join(name for name, _ in est.dropped)} disagreed with the body's up by "
            f"{', '.join(f'{deg:.0f}' for _, deg in est.dropped)} deg and {'was' if len(est.dropped) == 1 else 'were'} "
            "not used (steps, a slope, or a jump down from something?): up comes from the body alone."
        )
    if est.method not in ("override", "assumed level") and est.sigma_deg > gravity.LOW_CONFIDENCE_DEG:
        warnings.append(
            f"The camera's tilt is a guess ({est.describe()}): the motion gives little to measure up from. "
            "If the character leans, set the camera pitch and roll, or assume a level camera."
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
        absw[..., 2] -= level - opt.ankle_height
        camera_height = float(opt.ankle_height - level)
        still = contact.still_in_image(points2d, fps)
        contacts = contact.detect_contacts(absw[:, list(FEET)], fps, opt.ankle_height, still2d=still)
        if opt.root_motion == "full" and opt.foot_lock:
            absw = contact.anchor_depth(absw, contacts, fps, np.array([0.0, 0.0, camera_height]))
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

    pitch, roll = gravity.pitch_roll(up_cam)
    fov = float(np.degrees(2 * np.arctan(0.5 * max(image_size) / focal))) if points2d is not None else float("nan")
    floor = FloorInfo(
        r_cw, up_cam, est.method, camera_height, opt.ankle_height, pitch, roll, est.sigma_deg, est.confidence, fov
    )
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
