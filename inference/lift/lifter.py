"""`uplift`: sparse key-frame 2D poses of a whole clip -> dense 3D joints for every frame.

How a clip is mapped onto the model (why: the model runs at one fixed rate, videos come at 24-60 fps):
1. Every key-frame (a row with all values finite) is placed on the model's token grid by its *time*
   (frame / fps * grid rate, rounded; grid rate = cfg.fps / cfg.s_out, 30 Hz for the shipped model).
   The model was trained with integer and real-valued strides, so the uneven spacing this gives for e.g.
   24 fps video is in-distribution.
2. The spatial transformer embeds the key-frame poses a batch of windows uses (and their mirror images for
   flip TTA), inside the same network call as the temporal part (`forward_windows`).
3. Windows of n_tok tokens slide over the grid with a hop of `hop` tokens. hop=1 uses the centre head
   (one window per grid frame, as in the paper); hop>1 uses the sequence head for the 2*hop tokens around
   each window centre, cross-faded with triangular weights so neighbouring windows blend without seams.
   Before the first / after the last key-frame the grid is padded with copies of the first / last *real*
   key-frame, continuing the key-frame spacing (the reference code's right-edge padding is wrong for
   sparse capture).
4. Flip TTA averages the prediction with the un-mirrored prediction for the mirrored input.
5. The grid prediction is interpolated linearly back to the video's frame times; what it adds to
   interpolating its own key-frames is low-passed below the key rate (inbetween.py); the pelvis is set to 0.
A clip with no key-frame raises NoPersonError; a single key-frame gives that one pose for every frame.

All of this is numpy, written once; the network itself runs on ONNX Runtime or torch (backends.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import NoPersonError, UpliftError
from ..pose2d.landmarks import canonical_torso_2d
from .backends import WindowModel, get_backend
from .inbetween import steady_inbetweens
from .poses import mirror_2d, mirror_3d, mirror_world, normalize_2d, world_features
from .weights import load_model  # the torch backend's loader, looked up here at call time (tests replace it)

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


def _check(pts: np.ndarray, image_size: tuple[int, int], fps: float) -> tuple[int, int]:
    if pts.ndim != 3 or pts.shape[1:] != (17, 2):
        raise UpliftError(f"points_2d must have shape [T, 17, 2], got {pts.shape}")
    if not fps or fps <= 0:
        raise UpliftError(f"fps must be positive, got {fps}")
    w, h = int(image_size[0]), int(image_size[1])
    if w <= 0 or h <= 0:
        raise UpliftError(f"image_size must be (width, height) in pixels, got {image_size}")
    return w, h


def _batch_call(
    net: WindowModel, x: np.ndarray, win: np.ndarray, flip_tta: bool, world: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One network call for a batch of windows (and their mirror images): only the key-frames they use go in.

    win [B, n_tok]: index into x (and world, its features per key-frame) or -1. Returns seq, centre averaged
    over the flip variants.
    """
    used = np.unique(win[win >= 0])
    if len(used) == 0:  # a window without any key-frame (a long gap): masked out anyway, any pose will do
        used = np.zeros(1, np.int64)
    local = np.where(win >= 0, np.searchsorted(used, win), -1)
    poses = x[used]
    feats = None if world is None else world[used]
    b = len(win)
    if flip_tta:
        poses = np.concatenate([poses, mirror_2d(poses)])
        feats = None if feats is None else np.concatenate([feats, mirror_world(feats)])
        local = np.concatenate([local, np.where(local >= 0, local + len(used), -1)])
    seq, centre = net.windows(poses, local) if feats is None else net.windows(poses, local, feats)
    if flip_tta:
        seq = 0.5 * (seq[:b] + mirror_3d(seq[b:]))
        centre = 0.5 * (centre[:b] + mirror_3d(centre[b:]))
    return seq, centre


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
    backend: str = "auto",
    steady: bool = True,
    world: np.ndarray | None = None,
) -> np.ndarray:
    """Sparse 2D [T,17,2] pixels (NaN rows off key-frames) -> float32 [T,17,3] metres, camera coords, pelvis 0.

    hop: grid tokens advanced per window (1 = the paper's centre-frame-only sliding window: slowest, see
    docs/model.md for the measured quality/speed trade-off).
    backend: 'onnx' (ONNX Runtime, no torch), 'torch', or 'auto' = ONNX when onnxruntime is installed and the
    export beside `weights` matches them, else torch. device: 'auto', 'cpu', or a GPU ('cuda[:N]'; torch also
    'mps'; ONNX also 'dml', 'coreml').
    steady: low-pass what the model adds between key-frames to interpolating its own key-frame outputs
    (inbetween.py: learned in-betweens without their wobble); False gives the network's raw output.
    world: MediaPipe's world landmarks [T,17,3] (metres, any rows NaN), for weights trained to see them
    (cfg.world_input); other weights ignore it, and such weights without it see 2D only, as in training.
    """
    pts = np.asarray(points_2d, dtype=np.float32)
    w, h = _check(pts, image_size, fps)
    hop = max(int(hop), 1)
    n = len(pts)
    key_t = np.flatnonzero(np.isfinite(pts).all(axis=(1, 2)))
    if len(key_t) == 0:
        raise NoPersonError(
            "no key-frame has a 2D pose, so there is nothing to lift: check that the person is "
            "visible, or lower the stride."
        )
    net = get_backend(backend, weights, device, torch_loader=load_model)
    cfg = net.cfg
    g, n_grid = _grid(key_t, n, fps, cfg.fps / cfg.s_out)
    x = normalize_2d(canonical_torso_2d(pts[key_t]), (w, h))
    feats = None
    if world is not None and cfg.world_input:
        world = np.asarray(world, np.float32)
        if world.shape != (n, 17, 3):
            raise UpliftError(f"world must have shape {(n, 17, 3)} like points_2d's rows, got {world.shape}")
        feats = world_features(world[key_t])
    half = cfg.n_tok // 2
    pad = half + hop
    idx = _padded_keys(g, n_grid, pad)
    centres = np.arange(0, n_grid + hop, hop) if hop > 1 else np.arange(n_grid)
    offs = np.arange(-half, half + 1)
    reach = np.arange(-hop + 1, hop) if hop > 1 else np.zeros(1, np.int64)
    tri = (1.0 - np.abs(reach) / hop).astype(np.float32) if hop > 1 else np.ones(1, np.float32)
    out = np.zeros((n_grid, 17, 3), np.float32)
    wsum = np.zeros(n_grid, np.float32)
    for s in range(0, len(centres), batch_size):
        c = centres[s : s + batch_size]
        win = idx[(c[:, None] + offs[None, :]) + pad]  # [B, n_tok] key-frame index or -1
        seq, centre = _batch_call(net, x, win, flip_tta, feats)
        pred = seq[:, half + reach] if hop > 1 else centre[:, None]  # [B, len(reach), 17, 3]
        tgt = c[:, None] + reach[None, :]  # grid positions these predictions belong to
        for j in range(len(reach)):  # one reach offset at a time: its targets are distinct, so += is exact
            ok = (tgt[:, j] >= 0) & (tgt[:, j] < n_grid)
            out[tgt[ok, j]] += pred[ok, j] * tri[j]
            wsum[tgt[ok, j]] += tri[j]
    grid_pred = out / np.maximum(wsum, 1e-6)[:, None, None]
    # Back to the video's frames by time.
    tg = np.arange(n) * (cfg.fps / cfg.s_out) / fps
    i0 = np.clip(np.floor(tg).astype(np.int64), 0, max(n_grid - 2, 0))
    i1 = np.minimum(i0 + 1, n_grid - 1)
    a = np.clip(tg - i0, 0.0, 1.0)[:, None, None].astype(np.float32)
    res = (1 - a) * grid_pred[i0] + a * grid_pred[i1]
    if len(key_t) == 1:
        res[:] = grid_pred[g[0]]
    if steady:
        res = steady_inbetweens(res, key_t, fps)
    res = res - res[:, :1]
    return res.astype(np.float32)
