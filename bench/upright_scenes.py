"""Synthetic captures for the upright benchmark and tests: real mocap through pitched / rolled cameras.

Why synthetic: a camera whose pitch and roll we chose is the only exact truth for "up". Each scene is one
mocap clip (Blender world: Z up, metres) seen by one pinhole camera of known pitch, roll, height and field of
view. The field of view is drawn per scene and never handed to the code under test (as in real use).

Motion classes come from the clip names and index.json descriptions; "sit" has no mocap here, so it is made
by posing the legs of standing-idle clips on an imaginary chair (thighs level, shins vertical).
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPLIFT_SHARED", REPO.parent / "shared")).resolve()
MOCAP = SHARED / "data" / "mocap" / "h36m17"
FPS = 30.0
MAX_SECONDS = 12.0

# class -> clips, all in the validation split (inference.training.data.is_val): neither the lifter nor the
# learned up estimator (retarget/learned_up.py) saw them in training; tests/test_upright_scenes.py checks it.
CLASSES: dict[str, tuple[str, ...]] = {
    "stand": ("reactidle_008_acted",),
    "one-leg": (
        "hdm05_mm_kickLFront1Reps_020_120",
        "hdm05_bd_kickLFront1Reps_002_120",
        "hdm05_bk_elbowToKnee1RepsLelbowStart_010_120",
        "hdm05_bk_elbowToKnee1RepsLelbowStart_011_120",
        "cmu_005_15",
    ),
    "squat": (
        "hdm05_mm_squat1Reps_038_120",
        "hdm05_bd_squat1Reps_010_120",
        "hdm05_bk_squat1Reps_018_120",
        "hdm05_bk_squat1Reps_019_120",
    ),
    "sit": ("reactidle_008_acted",),  # legs posed on a chair (see sit_pose)
    "lie": (
        "hdm05_dg_lieDownFloor_011_120",
        "hdm05_dg_lieDownFloor_012_120",
        "hdm05_dg_lieDownFloor_013_120",
        "hdm05_dg_lieDownFloor_014_120",
    ),
    "pick up": (
        "hdm05_tr_depositFloorR_030_120",
        "hdm05_tr_depositFloorR_032_120",
        "hdm05_bk_depositFloorR_010_120",
        "hdm05_bk_depositFloorR_012_120",
    ),
    "throw": ("cmuexp_test_soccer_1", "cmu_006_14", "cmuexp_train_basketball_signal_2"),
    "walk toward": ("cmuexp_test_walking_12", "cmuexp_train_walking_19", "cmu_005_01", "cmu_007_06"),
    "walk away": ("cmuexp_test_walking_6", "cmuexp_train_walking_25", "cmu_007_12", "cmuexp_train_walking_44"),
    "walk across": ("cmuexp_train_walking_5", "cmuexp_train_walking_50", "cmu_131_02", "cmu_005_01"),
    "run": (
        "hdm05_bk_jogLeftCircle4StepsRstart_003_120",
        "hdm05_bk_jogLeftCircle4StepsRstart_005_120",
        "hdm05_bk_jogLeftCircle4StepsRstart_007_120",
        "hdm05_bk_jogLeftCircle4StepsRstart_004_120",
    ),
    "jump": (
        "hdm05_bk_hopBothLegs1hops_018_120",
        "hdm05_bk_hopBothLegs1hops_019_120",
        "cmuexp_train_jumping_2",
    ),
    "dance": ("cmu_005_15", "cmu_60_01", "cmu_61_07", "hdm05_mm_rotateArmsBothBackward1Reps_011_120"),
}
WALK_VIEW = {"walk toward": 0.0, "walk away": 180.0, "walk across": 90.0}  # camera azimuth from the heading


@dataclass
class Scene:
    """One synthetic capture and its truth."""

    name: str
    cls: str
    world: np.ndarray  # [T,17,3] Blender world, Z up, floor at 0
    world_to_cam: np.ndarray  # [3,3] rows: camera x right, y down, z forward, in world coordinates
    position: np.ndarray  # [3] camera centre (world)
    focal: float  # pixels (unknown to the code under test)
    image_size: tuple[int, int]
    pitch_deg: float  # + = looking up
    roll_deg: float

    @property
    def up_cam(self) -> np.ndarray:
        return self.world_to_cam[:, 2].copy()

    def cam(self) -> np.ndarray:
        """Joints in camera coordinates [T,17,3] (root included)."""
        return (self.world - self.position) @ self.world_to_cam.T

    def project(self, cam: np.ndarray) -> np.ndarray:
        c = np.array(self.image_size, float) / 2
        return self.focal * cam[..., :2] / np.maximum(cam[..., 2:3], 0.05) + c


def _index() -> dict[str, dict]:
    return {c["clip"]: c for c in json.loads((MOCAP / "index.json").read_text())["clips"]}


def z_up(y_up: np.ndarray) -> np.ndarray:
    """Mocap (+Y up) -> Z-up world (x stays, y -> z, z -> -y), float64."""
    return np.stack([y_up[..., 0], -y_up[..., 2], y_up[..., 1]], axis=-1).astype(np.float64)


def load_world(name: str, fps: float = FPS) -> np.ndarray:
    """A clip resampled to fps, Z up, canonical torso joints, its floor at Z = 0 (lowest ankles - 8 cm)."""
    from inference.training.data import SOURCE_SCALE, canonical_targets, resample

    entry = _index()[name]
    for npz in sorted(MOCAP.glob("*_h36m17.npz")):
        with np.load(npz) as z:
            if name in z.files:
                y_up = z[name].astype(np.float32) * SOURCE_SCALE.get(entry["source"], 1.0)
                break
    else:
        raise KeyError(name)
    y_up = resample(canonical_targets(y_up), float(entry["fps"]), fps)[: int(MAX_SECONDS * fps)]
    w = z_up(y_up)
    ank = w[:, [3, 6], 2].min(axis=1)
    w[..., 2] -= np.percentile(ank, 10) - 0.08
    return w


def sit_pose(world: np.ndarray) -> np.ndarray:
    """Standing clip -> the same upper body seated: thighs level forward, shins vertical, pelvis lowered."""
    w = world.copy()
    side = w[:, 4] - w[:, 1]  # RHip -> LHip
    side[:, 2] = 0.0
    side /= np.linalg.norm(side, axis=-1, keepdims=True)
    fwd = np.cross(side, [0.0, 0.0, 1.0])  # left x up = forward
    thigh = np.linalg.norm(w[:, 2] - w[:, 1], axis=-1).mean()
    shin = np.linalg.norm(w[:, 3] - w[:, 2], axis=-1).mean()
    drop = w[:, 0, 2] - (shin + 0.08)  # pelvis to chair height (knee height)
    w[..., 2] -= drop[:, None]
    for hip, knee, ank in ((1, 2, 3), (4, 5, 6)):
        w[:, knee] = w[:, hip] + thigh * fwd
        w[:, ank] = w[:, knee] - [0.0, 0.0, shin]
    return w


def heading(world: np.ndarray) -> float:
    """Direction of travel (rad about Z) of the pelvis over the clip."""
    d = world[-1, 0, :2] - world[0, 0, :2]
    return float(np.arctan2(d[1], d[0]))


def make_camera(
    world: np.ndarray, rng: np.random.Generator, pitch_deg: float, roll_deg: float, azimuth: float | None = None
) -> tuple[np.ndarray, np.ndarray, float, tuple[int, int]]:
    """Camera of the given pitch/roll that keeps the whole clip in view: (world_to_cam, position, focal, size)."""
    size = [(1920, 1080), (1080, 1920), (1280, 720)][int(rng.integers(3))]
    fov = float(rng.uniform(45.0, 75.0))  # across the longer side
    focal = 0.5 * max(size) / np.tan(np.radians(fov) / 2)
    az = float(rng.uniform(0, 2 * np.pi)) if azimuth is None else azimuth
    p, r = np.radians(pitch_deg), np.radians(roll_deg)
    fwd = np.array([np.cos(az) * np.cos(p), np.sin(az) * np.cos(p), np.sin(p)])
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    level = np.stack([right, down, fwd])
    c, s = np.cos(r), np.sin(r)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ level
    pts = world.reshape(-1, 3)
    centre = 0.5 * (pts.min(0) + pts.max(0))
    half = np.array(size, float) / 2 * 0.9
    for dist in np.arange(2.0, 40.0, 0.25):  # back away along the view ray until everything is in view
        pos = centre - dist * fwd
        cam = (pts - pos) @ rot.T
        if (cam[:, 2] > 0.5).all() and (np.abs(focal * cam[:, :2] / cam[:, 2:3]) < half).all():
            break
    if pos[2] < 0.1:  # never under the floor: raise the camera (the body moves up in the image)
        pos = pos + [0.0, 0.0, 0.1 - pos[2]]
    return rot, pos, focal, size


def scenes(
    classes: list[str] | None = None, per_clip: int = 2, seed: int = 0, max_clips: int | None = None
) -> list[Scene]:
    """Every class's clips, each through `per_clip` cameras (pitch -40..+20, roll -15..+15, seeded)."""
    out: list[Scene] = []
    cache: dict[str, np.ndarray] = {}
    for cls in classes or list(CLASSES):
        for name in CLASSES[cls][:max_clips]:
            if name not in cache:
                cache[name] = load_world(name)
            world = sit_pose(cache[name]) if cls == "sit" else cache[name]
            rng = np.random.default_rng(seed + zlib.crc32(f"{cls}/{name}".encode()))
            for k in range(per_clip):
                pitch = float(rng.uniform(-40.0, 20.0))
                roll = float(rng.uniform(-15.0, 15.0))
                az = None
                if cls in WALK_VIEW:  # camera ahead of / behind / beside the walker, looking at them
                    az = heading(world) + np.pi + np.radians(WALK_VIEW[cls] + rng.uniform(-20, 20))
                rot, pos, focal, size = make_camera(world, rng, pitch, roll, az)
                out.append(Scene(f"{name}#{k}", cls, world, rot, pos, focal, size, pitch, roll))
    return out


def observe(scene: Scene, stride: int = 10, noise_px: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """What the lifter gets: detector-like 2D on key-frames ([T,17,2] px, NaN elsewhere), and the camera
    joints (truth, root included). The 2D uses MediaPipe-like landmark offsets and Gaussian jitter."""
    from inference.pose2d.landmarks import canonical_torso_2d
    from inference.training.noise import detector_points_3d

    cam = scene.cam()
    pts = detector_points_3d(cam[None].astype(np.float32), None)[0].astype(np.float64)
    px = scene.project(pts)
    px += np.random.default_rng(seed).normal(0.0, noise_px, px.shape)
    px = canonical_torso_2d(px).astype(np.float64)
    px[np.arange(len(px)) % stride != 0] = np.nan
    return px, cam


def lifted(scene: Scene, px: np.ndarray, cache_dir: Path | None = None) -> np.ndarray:
    """The shipped lifter's output for this scene's 2D (cached on disk: the lifter takes seconds per clip)."""
    from inference.lift.weights import file_sha256, resolve_weights

    weights = file_sha256(resolve_weights())[:16]  # new weights, new cache entries
    key = zlib.crc32(px.tobytes()) ^ zlib.crc32(scene.name.encode()) ^ zlib.crc32(weights.encode())
    path = (
        cache_dir / f"{scene.cls.replace(' ', '_')}_{scene.name.replace('#', '_')}_{key:08x}.npy" if cache_dir else None
    )
    if path is not None and path.is_file():
        return np.load(path)
    from inference import uplift

    out = uplift(px.astype(np.float32), scene.image_size, FPS, device="cpu").astype(np.float64)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
    return out


def tilt_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle (deg) between two directions: how far an estimated up is from the scene's true up."""
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def up_errors(
    classes: list[str], *, lift_cache: Path | None = None, lift: bool = False, per_clip: int = 2
) -> dict[str, list[tuple[float, str]]]:
    """class -> [(tilt error of the retargeter's up in deg, how it was found)] over the class's scenes, for the
    true camera joints (lift=False) or the shipped lifter's output for the scene's 2D (lift=True)."""
    from retarget.motion import retarget_motion

    out: dict[str, list[tuple[float, str]]] = {}
    for scene in scenes(classes, per_clip=per_clip):
        px, cam = observe(scene)
        joints = lifted(scene, px, lift_cache) if lift else cam - cam[:, :1]
        m = retarget_motion(joints, fps=FPS, points2d=px, image_size=scene.image_size)
        out.setdefault(scene.cls, []).append((tilt_deg(m.floor.up_cam, scene.up_cam), m.floor.up_method))
    return out
