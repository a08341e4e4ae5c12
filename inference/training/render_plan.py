"""What to render for one mocap clip: body shape, key-frame times, looks and camera, sampled per clip.

Why here (bpy-free): the plan is plain numbers, seeded by the clip name, so a resumed or repeated run
renders the same shots, and the renderer (addon/render_humans.py) only turns numbers into pixels.
Cameras come from `cameras.random_cameras` (the lifter's own training distribution: focal 16-100 mm
equivalent, height 0.3-2.5 m, whole window in view, off-centre) with pitch kept in -35..+15 deg and roll
within +-10 deg; image sizes are small landscape / portrait / square ones (render cost is per pixel).
Looks: skin tones light to dark, shirt / trousers / shoe colours with sleeve and leg lengths, a floor, a
background (solid, vertical gradient or noise) whose brightness differs from the skin's (a pale body on a
pale background was the one kind of miss seen), a sun plus sky light.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from .cameras import Cameras, random_cameras

RENDER_SIZES = ((640, 360), (360, 640), (480, 480), (640, 480), (480, 640))
PITCH_DEG = (-35.0, 15.0)
ROLL_DEG = 10.0
STRIDES = (3, 4, 5, 6, 8, 10)  # key-frame spacing in frames at 30 fps: 0.1 .. 0.33 s
# sRGB skin tones, light to dark (a plain spread, not any published scale)
SKIN_TONES = (
    (244, 226, 212),
    (236, 206, 180),
    (224, 186, 152),
    (205, 160, 120),
    (176, 128, 92),
    (141, 97, 66),
    (112, 74, 52),
    (86, 57, 42),
    (62, 43, 34),
    (45, 33, 28),
)
BACKGROUNDS = ("solid", "gradient", "noise")


@dataclass
class Look:
    """Colours are sRGB in [0, 1]."""

    skin: tuple[float, float, float]
    shirt: tuple[float, float, float]
    trousers: tuple[float, float, float]
    shoes: tuple[float, float, float]
    sleeves: str  # "none" | "short" | "long"
    legs: str  # "shorts" | "long"
    floor: tuple[float, float, float]
    background: str  # one of BACKGROUNDS
    bg_colors: tuple[tuple[float, float, float], tuple[float, float, float]]
    noise_scale: float
    sun_elevation_deg: float
    sun_azimuth_deg: float  # relative to the camera's side of the body (0: light from behind the camera)
    sun_strength: float
    sky_strength: float


@dataclass
class ClipPlan:
    clip: str
    seed: int
    phenotype: dict[str, float]
    stride: int  # key-frame spacing in frames
    start: int  # first frame of the window (model-rate frame index)
    n_keys: int
    look: Look
    size: tuple[int, int] = (640, 360)  # (w, h)
    extra: dict = field(default_factory=dict)
    stature_m: float | None = None  # crown-to-sole height the body is fitted to (humans.body_for_plan)

    @property
    def key_frames(self) -> np.ndarray:
        """Model-rate frame indices of the key-frames."""
        return self.start + self.stride * np.arange(self.n_keys)

    @property
    def dense_frames(self) -> np.ndarray:
        """Every model-rate frame from the first to the last key-frame (3D only, for the lifter)."""
        return np.arange(self.start, self.key_frames[-1] + 1)

    def to_json(self) -> dict:
        return asdict(self)


def clip_seed(name: str, seed: int = 0) -> int:
    """Deterministic per-clip seed (the same crc32 family as the split rule in data.is_val)."""
    return (zlib.crc32(name.encode()) ^ (seed * 0x9E3779B1)) & 0xFFFFFFFF


STATURE_MEAN_M = (1.63, 1.77)  # women, men
STATURE_RANGE_M = (1.45, 2.0)


def clip_order(clips: list, seed: int = 0) -> list:
    """A fixed shuffle of a split's clips (so a partial render covers every source), stable under resume."""
    return sorted(clips, key=lambda c: clip_seed(c.name, seed + 7))


def luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _hsv(rng: np.random.Generator, s: tuple[float, float], v: tuple[float, float]) -> tuple[float, ...]:
    import colorsys

    return tuple(float(c) for c in colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*s), rng.uniform(*v)))


def sample_phenotype(rng: np.random.Generator) -> dict[str, float]:
    """Anny phenotype in [0, 1]: mostly adults (age 0.45-1), some children (0.25-0.45), any sex, weight,
    muscle; height and proportions kept away from the extremes (they give caricatures)."""
    age = rng.uniform(0.25, 0.45) if rng.uniform() < 0.15 else rng.uniform(0.45, 1.0)
    return {
        "gender": float(rng.uniform()),
        "age": float(age),
        "muscle": float(rng.uniform(0.1, 0.9)),
        "weight": float(rng.uniform(0.1, 0.9)),
        "height": float(rng.uniform(0.2, 0.8)),
        "proportions": float(rng.uniform(0.3, 0.7)),
    }


def sample_stature(rng: np.random.Generator, gender: float) -> float:
    """Standing height (m) like a real population's, for Anny's gender in [0, 1] (0 female, 1 male).

    Why: Anny's height phenotype alone gave statures of 1.22-2.20 m on the first 20 val plans (6 over 2 m);
    a lifter cannot see absolute size, so giant or tiny bodies cost MPJPE that no user's video would
    (per-clip best scale 0.66-1.26). Adult means 1.63 m (women) to 1.77 m (men), sd 0.07 m."""
    return float(
        np.clip(
            rng.normal(STATURE_MEAN_M[0] + gender * (STATURE_MEAN_M[1] - STATURE_MEAN_M[0]), 0.07), *STATURE_RANGE_M
        )
    )


def sample_look(rng: np.random.Generator, min_contrast: float = 0.2) -> Look:
    skin = tuple(c / 255.0 for c in SKIN_TONES[rng.integers(len(SKIN_TONES))])
    kind = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    for _ in range(50):  # background brightness away from the skin's
        bg = (_hsv(rng, (0.0, 0.8), (0.05, 0.95)), _hsv(rng, (0.0, 0.8), (0.05, 0.95)))
        if kind == "solid":
            bg = (bg[0], bg[0])
        if abs(0.5 * (luminance(bg[0]) + luminance(bg[1])) - luminance(skin)) >= min_contrast:
            break
    return Look(
        skin=skin,
        shirt=_hsv(rng, (0.0, 0.9), (0.08, 0.95)),
        trousers=_hsv(rng, (0.0, 0.7), (0.05, 0.8)),
        shoes=_hsv(rng, (0.0, 0.5), (0.03, 0.6)),
        sleeves=("none", "short", "long")[rng.integers(3)],
        legs=("shorts", "long")[int(rng.uniform() < 0.75)],
        floor=_hsv(rng, (0.0, 0.5), (0.1, 0.8)),
        background=kind,
        bg_colors=bg,
        noise_scale=float(rng.uniform(2.0, 12.0)),
        sun_elevation_deg=float(rng.uniform(20, 80)),
        sun_azimuth_deg=float(rng.uniform(-110, 110)),
        sun_strength=float(rng.uniform(2.0, 5.0)),
        sky_strength=float(rng.uniform(0.5, 1.3)),
    )


def plan_clip(
    name: str, n_frames: int, seed: int = 0, max_keys: int = 24, min_keys: int = 2, fps: float = 30.0
) -> ClipPlan:
    """Sample everything for one clip of n_frames frames at `fps` (the camera comes later, from the posed
    body: `sample_camera`). Key-frame spacing is drawn in 30 fps frames and scaled, so a 60 fps plan spans the
    same seconds with twice the frames between key-frames."""
    s = clip_seed(name, seed)
    rng = np.random.default_rng(s)
    phen = sample_phenotype(rng)
    stride = int(STRIDES[rng.integers(len(STRIDES))]) * max(1, round(fps / 30.0))
    while stride > 1 and (n_frames - 1) // stride + 1 < min_keys:
        stride -= 1
    n_keys = int(min(max_keys, (n_frames - 1) // stride + 1))
    start = int(rng.integers(0, n_frames - (n_keys - 1) * stride))
    size = RENDER_SIZES[rng.integers(len(RENDER_SIZES))]
    # its own stream: adding the stature kept every other choice of the earlier plans
    stature = sample_stature(np.random.default_rng(s + 2), phen["gender"])
    return ClipPlan(name, s, phen, stride, start, n_keys, sample_look(rng), size, stature_m=stature)


def pitch_deg(R: np.ndarray) -> float:
    """Optical-axis elevation (deg, + looking up) of a world(+Y up)->camera rotation."""
    fwd = R[2]
    return float(np.degrees(np.arcsin(np.clip(fwd[1], -1.0, 1.0))))


def roll_deg(R: np.ndarray) -> float:
    """Roll (deg) of the camera about its optical axis, relative to the world's up (+Y)."""
    fwd, down = R[2], R[1]
    up = np.array([0.0, 1.0, 0.0])
    right_level = np.cross(fwd, up)
    right_level /= max(float(np.linalg.norm(right_level)), 1e-9)
    down_level = np.cross(fwd, right_level)
    return float(np.degrees(np.arctan2(np.dot(down, right_level), np.dot(down, down_level))))


def sample_camera(plan: ClipPlan, world_yup: np.ndarray, tries: int = 40) -> Cameras:
    """One static camera for the clip from the key-frame points world_yup [K, N, 3] (+Y up, metres):
    the whole window in view, pitch within PITCH_DEG (rejection sampling; the closest try otherwise)."""
    rng = np.random.default_rng(plan.seed + 1)
    best, best_err = None, np.inf
    for _ in range(tries):
        cam = random_cameras(world_yup[None], rng, sizes=(plan.size,), roll_deg=ROLL_DEG)
        p = pitch_deg(cam.R[0])
        err = max(PITCH_DEG[0] - p, p - PITCH_DEG[1], 0.0)
        if err < best_err:
            best, best_err = cam, err
        if err == 0.0:
            break
    assert best is not None
    return best


MATERIALS = ("skin", "shirt", "trousers", "shoes")


def region(bone: str, look: Look) -> str:
    """Which material covers the skin weighted most to `bone` (simple clothing by body part)."""
    if bone.startswith(("foot.", "toe")):
        return "shoes"
    if bone.startswith(("root", "pelvis.", "upperleg", "spine05")) or (
        look.legs == "long" and bone.startswith("lowerleg")
    ):
        return "trousers"
    if bone.startswith(("spine", "clavicle", "shoulder01")):
        return "shirt"
    if bone.startswith("upperarm") and look.sleeves != "none":
        return "shirt"
    if bone.startswith("lowerarm") and look.sleeves == "long":
        return "shirt"
    return "skin"


def face_materials(face_bones: list[str], look: Look) -> np.ndarray:
    """Material index (into MATERIALS) per face, from each face's dominant bone."""
    by_bone = {b: MATERIALS.index(region(b, look)) for b in set(face_bones)}
    return np.array([by_bone[b] for b in face_bones], dtype=np.int32)
