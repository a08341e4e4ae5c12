"""`uplift`: sparse key-frame 2D poses of a whole clip -> dense 3D joints for every frame.

How a clip is mapped onto the model (why: the model runs at one fixed rate, videos come at 24-60 fps):
1. Every key-frame (a row with all values finite) is placed on the model's token grid by its *time*
   (frame / fps * grid rate, rounded; grid rate = cfg.fps / cfg.s_out, 30 Hz for the shipped model).
   The model was trained with integer and real-valued strides, so the uneven spacing this gives for e.g.
   24 fps video is in-distribution.
2. The spatial transformer embeds each key-frame pose once (and its mirror image for flip TTA).
3. Windows of n_tok tokens slide over the grid with a hop of `hop` tokens. hop=1 uses the centre head
   (one window per grid frame, as in the paper); hop>1 uses the sequence head for the 2*hop tokens around
   each window centre, cross-faded with triangular weights so neighbouring windows blend without seams.
   Before the first / after the last key-frame the grid is padded with copies of the first / last *real*
   key-frame, continuing the key-frame spacing (the reference code's right-edge padding is wrong for
   sparse capture).
4. Flip TTA averages the prediction with the un-mirrored prediction for the mirrored input.
5. The grid prediction is interpolated linearly back to the video's frame times; the pelvis is set to 0.
A clip with no key-frame raises NoPersonError; a single key-frame gives that one pose for every frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import NoPersonError, UpliftError
from ..pose2d.landmarks import canonical_torso_2d
from .weights import load_model

DEFAULT_HOP = 10


def _grid(key_t: np.ndarray, n_frames: int, fps: float, grid_fps: float) -> tuple[np.ndarray, int]:
    """Key-frame indices -> token-grid indices (by time), and the grid length covering the clip."""
    ratio = grid_fps / fps
    g = np.round(key_t * ratio).astype(np.int64)
    return g, int(np.floor((n_frames - 1) * ratio + 1e-6)) + 1


def _padded_keys(g: np.ndarray, n_grid: int, pad: int) -> np.ndarray:
    """Embedding index per grid position on [-pad, n_grid + pad): -1 = no key-frame."""
    idx = -np.ones(n_grid + 2 * pad, dtype=np.int64)
    idx[g + pad] = np.arange(len(g))  # later duplicates win: one key-frame per grid cell
    step = max(int(np.median(np.diff(g))) if len(g) > 1 else 1, 1)
    left = np.arange(g[0] - step, -pad - 1, -step)
    right = np.arange(g[-1] + step, n_grid + pad, step)
    idx[left + pad] = idx[g[0] + pad]
    idx[right + pad] = idx[g[-1] + pad]
    return idx


def uplift(
    points_2d: np.ndarray,
    image_size: tuple[int, int],
    fps: float,
    *,
    weights: str | Path | None = None,
    device: str = "auto",
    flip_tta: bool = True,
    batch_size: int = 64,
    hop: int = DEFAULT_HOP,
) -> np.ndarray:
    """Sparse 2D [T,17,2] pixels (NaN rows off key-frames) -> float32 [T,17,3] metres, camera coords, pelvis 0.

    hop: grid tokens advanced per window (1 = the paper's centre-frame-only sliding window: slowest, see
    docs/model.md for the measured quality/speed trade-off).
    """
    import torch

    from .model import flip_2d, flip_3d, normalize_2d

    pts = np.asarray(points_2d, dtype=np.float32)
    if pts.ndim != 3 or pts.shape[1:] != (17, 2):
        raise UpliftError(f"points_2d must have shape [T, 17, 2], got {pts.shape}")
    if not fps or fps <= 0:
        raise UpliftError(f"fps must be positive, got {fps}")
    w, h = int(image_size[0]), int(image_size[1])
    if w <= 0 or h <= 0:
        raise UpliftError(f"image_size must be (width, height) in pixels, got {image_size}")
    hop = max(int(hop), 1)
    n = len(pts)
    key_t = np.flatnonzero(np.isfinite(pts).all(axis=(1, 2)))
    if len(key_t) == 0:
        raise NoPersonError(
            "no key-frame has a 2D pose, so there is nothing to lift: check that the person is "
            "visible, or lower the stride."
        )
    model = load_model(weights, device)
    cfg = model.cfg
    dev = next(model.parameters()).device
    g, n_grid = _grid(key_t, n, fps, cfg.fps / cfg.s_out)
    x = torch.from_numpy(normalize_2d(canonical_torso_2d(pts[key_t]), (w, h))).to(dev)
    half = cfg.n_tok // 2
    pad = half + hop
    idx = torch.from_numpy(_padded_keys(g, n_grid, pad)).to(dev)
    centres = np.arange(0, n_grid + hop, hop) if hop > 1 else np.arange(n_grid)
    offs = torch.arange(-half, half + 1, device=dev)
    out = torch.zeros(n_grid, 17, 3, device=dev)
    wsum = torch.zeros(n_grid, device=dev)
    reach = torch.arange(-hop + 1, hop, device=dev) if hop > 1 else torch.zeros(1, dtype=torch.long, device=dev)
    tri = (1.0 - reach.abs().float() / hop) if hop > 1 else torch.ones(1, device=dev)
    variants = [False, True] if flip_tta else [False]
    with torch.inference_mode():
        embs = {f: model.embed_poses(flip_2d(x) if f else x) for f in variants}
        for s in range(0, len(centres), batch_size):
            c = torch.from_numpy(centres[s : s + batch_size]).to(dev)
            win = idx[(c[:, None] + offs[None, :]) + pad]  # [B, n_tok] embedding index or -1
            key = win >= 0
            pred = 0
            for f in variants:
                tokens = embs[f][win.clamp(min=0)]
                seq, centre = model.forward_tokens(tokens, key)
                p = seq[:, half + reach] if hop > 1 else centre[:, None]
                pred = pred + (flip_3d(p) if f else p)
            pred = pred / len(variants)
            tgt = c[:, None] + reach[None, :]  # grid positions these predictions belong to
            ok = (tgt >= 0) & (tgt < n_grid)
            wts = tri[None, :].expand_as(tgt)[ok]
            out.index_add_(0, tgt[ok], pred[ok] * wts[:, None, None])
            wsum.index_add_(0, tgt[ok], wts)
    grid_pred = (out / wsum.clamp(min=1e-6)[:, None, None]).cpu().numpy()
    # Back to the video's frames by time.
    tg = np.arange(n) * (cfg.fps / cfg.s_out) / fps
    i0 = np.clip(np.floor(tg).astype(np.int64), 0, max(n_grid - 2, 0))
    i1 = np.minimum(i0 + 1, n_grid - 1)
    a = np.clip(tg - i0, 0.0, 1.0)[:, None, None].astype(np.float32)
    res = (1 - a) * grid_pred[i0] + a * grid_pred[i1]
    if len(key_t) == 1:
        res[:] = grid_pred[g[0]]
    res = res - res[:, :1]
    return res.astype(np.float32)
