"""Make projected mocap look like MediaPipe detections: where its points sit, jitter, outliers, swaps.

Both parts come from `landmark_model.json`, measured by `landmark_fit.py` on rendered humans whose joints are
known exactly (real MediaPipe on the renders; see docs/model.md, "Measured landmark model"):
1. `detector_points_3d`: each joint MediaPipe gives is moved by its measured offset from the joint centre,
   in the joint's body frame (`landmark_fit.frames`: torso, head or limb axes), plus a per-sequence
   variation drawn with the measured spread over clips (body shapes, clothing, views), capped at
   `MAX_SPREAD_M` because a clip's estimate from few key-frames also carries noise. Then
   `inference.pose2d.landmarks.canonical_torso_2d` rebuilds Pelvis/Spine/Thorax in 2D exactly as it does
   for MediaPipe.
2. `detector_noise`: per-joint Gaussian jitter with the measured sigma (relative to the person's 2D height)
   scaled per sequence by 0.5-1.5 (image size and sharpness vary), split into a slow part (`SLOW_SHARE` of
   the variance, drifting over ~`SLOW_FRAMES`) and a white part, outliers at the measured per-joint rate
   (~15 % of body height), left/right limb swaps at the measured rate. Lost key-frames (MediaPipe's miss
   rate) are made by the key-mask sampler.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..skeleton import INDEX
from .landmark_fit import MEASURED, SWAP_PAIRS, frames

MODEL_FILE = Path(__file__).with_name("landmark_model.json")
MAX_SPREAD_M = 0.03  # cap on the per-sequence variation of an offset (metres)
# The measured sigma is the residual around the mean offsets: much of it is pose-dependent bias that drifts
# with the pose, not frame-to-frame jitter. All-white noise of that size taught the v2 candidate to damp motion
# (extremities moved at ~0.3x the true speed); the split is assumed, not measured.
SLOW_SHARE = 0.6  # fraction of the variance that drifts slowly
SLOW_FRAMES = 10.0  # Gaussian correlation width of the slow part, frames
_SWAPS = tuple((INDEX[a], INDEX[b]) for a, b in SWAP_PAIRS)


@dataclass(frozen=True)
class LandmarkModel:
    """Per-joint arrays over the 17 joints (zeros / defaults where MediaPipe gives no point of its own)."""

    offset: np.ndarray  # [17, 3] metres in the joint's body frame
    spread: np.ndarray  # [17, 3] metres, per-sequence standard deviation
    sigma: np.ndarray  # [17] jitter per axis, fraction of the body's 2D height
    outlier: np.ndarray  # [17] probability per point
    swap_rate: float  # probability per frame of one left/right pair swapped
    miss_rate: float  # probability per key-frame of no detection


@functools.lru_cache(maxsize=4)
def landmark_model(detector: str = "full", path: Path = MODEL_FILE) -> LandmarkModel:
    """The measured model of MediaPipe `detector` ('full' or 'lite')."""
    data = json.loads(Path(path).read_text())["models"][detector]
    offset, spread = np.zeros((17, 3)), np.zeros((17, 3))
    sigma, outlier = np.full(17, 0.01), np.zeros(17)
    for name in MEASURED:
        j, k = data["joints"][name], INDEX[name]
        offset[k] = j["offset_m"]
        spread[k] = np.minimum(j["offset_std_clips_m"] or [0.0, 0.0, 0.0], MAX_SPREAD_M)
        sigma[k] = j["noise_rel_sigma"] or 0.01
        outlier[k] = j["outlier_rate"]
    return LandmarkModel(offset, spread, sigma, outlier, float(data["swap_rate"]), float(data["miss_rate"]))


def detector_points_3d(cam: np.ndarray, rng: np.random.Generator | None, detector: str = "full") -> np.ndarray:
    """Camera-space joints [B, N, 17, 3] -> where MediaPipe's points sit; rng None = the mean offsets."""
    lm = landmark_model(detector)
    off = np.broadcast_to(lm.offset, cam.shape[:1] + (17, 3)).copy()
    if rng is not None:
        off += rng.standard_normal(off.shape) * lm.spread
    axes = frames(cam.astype(np.float64))  # [B, N, 17, 3 axes, 3 coords]
    moved = np.einsum("bja,bnjac->bnjc", off, axes)
    return (cam + moved).astype(np.float32)


def slow_noise(shape: tuple[int, ...], rng: np.random.Generator, width: float = SLOW_FRAMES) -> np.ndarray:
    """Unit-variance Gaussian noise [B, N, ...] correlated along axis 1 over ~width frames."""
    n = shape[1]
    pad = int(3 * width)
    raw = rng.standard_normal((shape[0], n + 2 * pad) + tuple(shape[2:]))
    t = np.arange(-pad, pad + 1)
    k = np.exp(-0.5 * (t / width) ** 2)
    k /= np.sqrt((k**2).sum())  # keeps unit variance
    out = np.zeros(shape)
    for i, w in enumerate(k):
        out += w * raw[:, i : i + n]
    return out


def detector_noise(px: np.ndarray, rng: np.random.Generator, detector: str = "full") -> np.ndarray:
    """Pixel points [B, N, 17, 2] -> noisy copy (see module docstring)."""
    lm = landmark_model(detector)
    b, n = px.shape[:2]
    flat = px.reshape(b, -1, 2)
    body = np.maximum(np.ptp(flat[..., 1], axis=1), np.ptp(flat[..., 0], axis=1) * 0.5)
    body = np.maximum(body, 20.0)[:, None, None, None]
    scale = rng.uniform(0.5, 1.5, b)[:, None, None, None]
    sig = scale * lm.sigma[None, None, :, None]
    unit = np.sqrt(1 - SLOW_SHARE) * rng.standard_normal(px.shape) + np.sqrt(SLOW_SHARE) * slow_noise(px.shape, rng)
    out = px + unit.astype(np.float32) * (sig * body)
    hit = rng.random(px.shape[:3]) < lm.outlier[None, None, :]
    out = np.where(hit[..., None], out + rng.standard_normal(px.shape).astype(np.float32) * 0.15 * body, out)
    swap = rng.random((b, n)) < lm.swap_rate
    if swap.any():
        pair = _SWAPS[rng.integers(len(_SWAPS))]
        bi, ti = np.nonzero(swap)
        a, c = out[bi, ti, pair[0]].copy(), out[bi, ti, pair[1]].copy()
        out[bi, ti, pair[0]], out[bi, ti, pair[1]] = c, a
    return out.astype(np.float32)
