"""Training/evaluation samples from mocap: windows -> bone scaling -> virtual camera -> detector-like 2D.

One sample = one window of `cfg.n_tok` output-rate tokens around a random centre frame of a clip:
  * speed augmentation: token k sits at frame c + (k - n_tok//2) * s_out * speed, speed log-uniform 0.8-1.25,
    linear interpolation; positions off the clip repeat the edge frame (as in the paper).
  * random bone lengths: global x0.88-1.12, each left/right bone pair x0.92-1.08 (symmetric, so the derived
    Thorax stays the shoulder midpoint); with `proportions` > 0, that fraction of samples instead draws each
    group from `PROPORTION_RANGES` (log-uniform): other bodies than the mocap performers' (wide hips, long
    necks, narrow shoulders), so the lifter follows where the 2D points are instead of a learned skeleton.
  * a random camera (inference/training/cameras.py) and detector-like 2D (inference/training/noise.py), normalised.
  * a key-frame mask (`key_masks`): integer strides from cfg.train_strides (weighted by STRIDE_WEIGHTS), or
    real-valued strides 1-25 (what a 24-60 fps video looks like on the model's 30 Hz grid), or `graded_keys`
    (what `--stride auto` picks: a coarse first pass with some gaps halved and quartered), sometimes with lost
    key-frames.
Targets are camera-space, pelvis-relative metres.
"""

from __future__ import annotations

import numpy as np

from ..lift.model import UpliftConfig, normalize_2d
from ..pose2d.landmarks import canonical_torso_2d
from ..skeleton import FLIP_PERM, INDEX, PARENTS
from .cameras import Cameras, random_cameras
from .data import Clip, clip_weights
from .noise import detector_noise, detector_points_3d

# Joints whose incoming bone shares one random factor (left/right symmetric; spine pair together).
_BONE_GROUPS = (
    ("RHip", "LHip"),
    ("RKnee", "LKnee"),
    ("RAnkle", "LAnkle"),
    ("Spine", "Thorax"),
    ("Neck",),
    ("Head",),
    ("LShoulder", "RShoulder"),
    ("LElbow", "RElbow"),
    ("LWrist", "RWrist"),
)
# Why these ranges: lifting exact 2D of rendered Anny bodies cost 121 mm against 83 mm for the mocap skeleton
# that posed them, through the same cameras (evaluate_posed.py, 20 val plans, s_in 10). Anny's bones relative
# to the posing mocap's, per leg length (median, range): hip half-width 1.24 (0.87-2.29), neck 1.40
# (0.79-1.70), head 1.10 (0.92-1.42), shoulder half-width 0.79 (0.64-0.98), forearm 1.27 (0.84-1.43), spine
# 0.91 (0.78-1.19); the mocap sources differ among themselves as much (mocap README: Spine->Thorax 114-421 mm).
PROPORTION_RANGES: dict[tuple[str, ...], tuple[float, float]] = {
    ("RHip", "LHip"): (0.8, 2.2),
    ("RKnee", "LKnee"): (0.9, 1.1),
    ("RAnkle", "LAnkle"): (0.9, 1.1),
    ("Spine", "Thorax"): (0.75, 1.25),
    ("Neck",): (0.75, 1.7),
    ("Head",): (0.85, 1.45),
    ("LShoulder", "RShoulder"): (0.65, 1.15),
    ("LElbow", "RElbow"): (0.88, 1.1),
    ("LWrist", "RWrist"): (0.85, 1.4),
}
STRIDE_WEIGHTS = {1: 1.0, 2: 1.0, 4: 1.0, 5: 1.0, 10: 2.0, 20: 2.0}


def sample_windows(
    clips: list[Clip], cfg: UpliftConfig, b: int, rng: np.random.Generator, speed: tuple[float, float] = (0.8, 1.25)
) -> np.ndarray:
    """[b, n_tok, 17, 3] world windows from random clips and centres (clip choice by `clip_weights`)."""
    ci = rng.choice(len(clips), size=b, p=clip_weights(clips))
    sp = np.exp(rng.uniform(np.log(speed[0]), np.log(speed[1]), b))
    offs = (np.arange(cfg.n_tok) - cfg.n_tok // 2) * cfg.s_out
    out = np.empty((b, cfg.n_tok, 17, 3), dtype=np.float32)
    for k, (c, s) in enumerate(zip(ci, sp)):
        j = clips[c].joints
        t = np.clip(rng.uniform(0, len(j) - 1) + offs * s, 0, len(j) - 1)
        i0 = np.minimum(t.astype(int), len(j) - 2) if len(j) > 1 else np.zeros(len(t), int)
        w = (t - i0)[:, None, None].astype(np.float32) if len(j) > 1 else 0.0
        out[k] = (1 - w) * j[i0] + w * j[np.minimum(i0 + 1, len(j) - 1)]
    return out


def scale_bones(
    x: np.ndarray,
    rng: np.random.Generator,
    glob: tuple[float, float] = (0.88, 1.12),
    per_bone: tuple[float, float] = (0.92, 1.08),
    proportions: float = 0.0,
) -> np.ndarray:
    """Random bone lengths per sample, rebuilt root-outwards; the root trajectory is kept. A `proportions`
    fraction of samples draws each bone group from PROPORTION_RANGES instead of `per_bone`."""
    b = x.shape[0]
    fac = np.ones((b, 17), dtype=np.float32)
    wide = rng.random(b) < proportions if proportions > 0 else None  # None: the random stream stays as before
    for group in _BONE_GROUPS:
        f = rng.uniform(*per_bone, b)
        if wide is not None:
            lo, hi = np.log(PROPORTION_RANGES[group])
            f = np.where(wide, np.exp(rng.uniform(lo, hi, b)), f)
        for name in group:
            fac[:, INDEX[name]] = f
    fac *= rng.uniform(*glob, b)[:, None]
    out = x.copy()
    for j, p in enumerate(PARENTS):
        if p >= 0:
            out[:, :, j] = out[:, :, p] + fac[:, None, j, None] * (x[:, :, j] - x[:, :, p])
    return out


def graded_keys(n: int, rng: np.random.Generator, base: tuple[float, float] = (8.0, 30.0)) -> np.ndarray:
    """Key-frame indices < n like auto stride's: a first pass every u frames (u uniform in `base`), then each
    gap halved with probability 0.4 and each half halved again with 0.4 (motion decides that in a capture;
    here it is random, so the model learns uneven spacing rather than where it happens)."""
    u = rng.uniform(*base)
    keys = list(np.round(rng.uniform(0, u) + np.arange(0, n / u + 1) * u).astype(int))
    for _ in range(2):
        mids = [(a + b) // 2 for a, b in zip(keys[:-1], keys[1:]) if b - a >= 4 and rng.random() < 0.4]
        keys = sorted(set(keys) | set(mids))
    t = np.array(keys)
    return t[t < n]


def key_masks(
    b: int,
    n: int,
    cfg: UpliftConfig,
    rng: np.random.Generator,
    strides: list[float] | None = None,
    real_p: float = 0.35,
    real_max: float = 25.0,
    drop_p: float = 0.3,
    graded_p: float = 0.2,
) -> np.ndarray:
    """[b, n] bool key-frame masks on the token grid (see module docstring)."""
    pos = np.arange(n) * cfg.s_out
    s_set = list(cfg.train_strides) if strides is None else strides
    s_set = [s for s in s_set if s % cfg.s_out == 0] or [cfg.s_out]
    p = np.array([STRIDE_WEIGHTS.get(s, 1.0) for s in s_set])
    p /= p.sum()
    masks = np.zeros((b, n), dtype=bool)
    for k in range(b):
        if strides is None and cfg.s_out == 1 and rng.random() < graded_p:
            masks[k, graded_keys(n, rng)] = True
        elif strides is None and cfg.s_out == 1 and rng.random() < real_p:
            u = rng.uniform(1.0, real_max)
            t = np.round(rng.uniform(0, u) + np.arange(0, n / u + 1) * u).astype(int)
            masks[k, t[t < n]] = True
        else:
            s = s_set[rng.choice(len(s_set), p=p)]
            phase = rng.integers(0, s // cfg.s_out) * cfg.s_out
            masks[k] = (pos + phase) % s == 0
        if strides is None and rng.random() < drop_p:
            keep = masks[k] & (rng.random(n) >= rng.uniform(0, 0.25))
            if keep.sum() >= 2:
                masks[k] = keep
    return masks


def make_2d(
    cam3d: np.ndarray,
    cams: Cameras,
    rng: np.random.Generator | None,
    sigma_px: float | None = None,
    noise_rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Camera-space joints -> normalised detector-like 2D [B, N, 17, 2].

    rng given: training (random landmark offsets + detector noise). rng None: evaluation (mean offsets and
    i.i.d. Gaussian noise of sigma_px pixels drawn from noise_rng)."""
    px = cams.project(detector_points_3d(cam3d, rng))
    if rng is not None:
        px = detector_noise(px, rng)
    elif sigma_px:
        px = px + (noise_rng or np.random.default_rng(0)).standard_normal(px.shape).astype(np.float32) * sigma_px
    px = canonical_torso_2d(px)
    return normalize_2d(px, cams.size[:, None, None, :].astype(np.float32))


def mirror_half(x2d: np.ndarray, y3d: np.ndarray, rng: np.random.Generator, world: np.ndarray | None = None) -> None:
    """Flip augmentation in place: about half the samples mirrored (x -> -x, left <-> right joints), 2D
    [b,n,17,2], 3D [b,n,17,3] and world features [b,n,17,4] (lift.poses.world_features) alike."""
    flip = rng.random(len(x2d)) < 0.5
    if flip.any():
        perm = list(FLIP_PERM)
        x2d[flip] = x2d[flip][:, :, perm] * np.array([-1, 1], np.float32)
        y3d[flip] = y3d[flip][:, :, perm] * np.array([-1, 1, 1], np.float32)
        if world is not None:
            world[flip] = world[flip][:, :, perm] * np.array([-1, 1, 1, 1], np.float32)


def training_batch(
    clips: list[Clip], cfg: UpliftConfig, b: int, rng: np.random.Generator, proportions: float = 0.0
) -> dict:
    """Everything one step needs: x2d [b,n,17,2], key [b,n], y3d [b,n,17,3] (numpy)."""
    world = scale_bones(sample_windows(clips, cfg, b, rng), rng, proportions=proportions)
    cams = random_cameras(world, rng)
    cam3d = cams.to_camera(world)
    y3d = cam3d - cam3d[:, :, :1]
    x2d = make_2d(cam3d, cams, rng)
    key = key_masks(b, cfg.n_tok, cfg, rng)
    mirror_half(x2d, y3d, rng)
    x2d[~key] = 0.0
    return {"x2d": x2d, "key": key, "y3d": y3d.astype(np.float32)}
