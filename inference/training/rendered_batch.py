"""Training windows from real-detector pairs: MediaPipe's 2D on rendered key-frames, exact joints between.

Why: synthetic 2D goes through a landmark model fitted to the renders (noise.py), but on rendered val clips
the lifter still does far worse than on that model's 2D (rendered vs measured, MODEL_CARD): what the real
detector does beyond offsets and noise (depth-ambiguous limbs in side views, a wrist on the wrong side, a
knee pulled towards the other) is only in its own output. These windows carry exactly that.

One sample = `cfg.n_tok` tokens (s_out = 1: one per 30 Hz frame) centred on a random frame between a clip's
first and last key-frame. Key-frames: the clip's rendered ones (every `stride` frames) or every m-th of them
(spacing m x stride up to MAX_SPACING, so one clip trains several strides), missed detections dropped.
Beyond the first / last key the grid continues with copies of it, and targets repeat the edge frame: what
`lift.lifter` feeds the model at a clip's ends. Flip augmentation as in synth.training_batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..lift.model import UpliftConfig, normalize_2d
from ..lift.poses import world_features
from .pairs import MODELS, rendered_sequences
from .synth import mirror_half

MAX_SPACING = 25  # frames at 30 Hz: the widest key spacing a fine-tune window uses (s_in 20 at 24 fps)


def load_rendered(folder: str | Path, detectors: tuple[str, ...] = MODELS) -> list[dict]:
    """Every pair file under `folder` once per detector (full and lite see the same frames differently), each with
    its `detected` key-frames (rows where MediaPipe found the body); clips with fewer than two are left out."""
    seqs = [s for d in detectors for s in rendered_sequences(Path(folder), d)]
    val = sorted({s["name"] for s in seqs if s["split"] == "val"})
    if val:
        raise ValueError(f"{folder} holds val-split pairs ({', '.join(val[:3])}...): train on the train split only")
    for s in seqs:  # once here, not per sample
        s["detected"] = s["keys"][np.isfinite(s["px"][s["keys"]]).all(axis=(1, 2))]
    seqs = [s for s in seqs if len(s["detected"]) >= 2]
    if not seqs:
        raise FileNotFoundError(f"no rendered pairs with two or more detected key-frames under {folder}")
    return seqs


def _window_keys(keys: np.ndarray, step: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid frames in [lo, hi] that carry a key-frame, and which key each shows (edge keys continue)."""
    left = np.arange(keys[0] - step, lo - 1, -step)
    right = np.arange(keys[-1] + step, hi + 1, step)
    frames = np.concatenate([left, keys, right])
    src = np.concatenate([np.full(len(left), keys[0]), keys, np.full(len(right), keys[-1])])
    inside = (frames >= lo) & (frames <= hi)
    return frames[inside], src[inside]


def rendered_batch(seqs: list[dict], cfg: UpliftConfig, b: int, rng: np.random.Generator) -> dict:
    """x2d [b,n,17,2], key [b,n], y3d [b,n,17,3] (numpy), like synth.training_batch, and world [b,n,17,4]:
    MediaPipe's world landmarks on the same key-frames (lift.poses.world_features); seqs from load_rendered."""
    if cfg.s_out != 1:
        raise ValueError("rendered windows need a model with one token per frame (s_out = 1)")
    n, half = cfg.n_tok, cfg.n_tok // 2
    x2d = np.zeros((b, n, 17, 2), np.float32)
    key = np.zeros((b, n), bool)
    y3d = np.zeros((b, n, 17, 3), np.float32)
    world = np.zeros((b, n, 17, 4), np.float32)
    for i in range(b):
        s = seqs[rng.integers(len(seqs))]
        ok = s["detected"]
        m = int(rng.integers(1, max(1, MAX_SPACING // s["stride"]) + 1))
        keys = ok[int(rng.integers(m)) :: m]
        if len(keys) < 2:
            keys = ok
        step = int(np.median(np.diff(keys)))
        c = int(rng.integers(keys[0], keys[-1] + 1))
        lo = c - half
        frames, src = _window_keys(keys, step, lo, lo + n - 1)
        pos = frames - lo
        size = np.asarray(s["size"], np.float32)
        x2d[i, pos] = normalize_2d(s["px"][src], size)
        key[i, pos] = True
        world[i, pos] = world_features(s["mp_world"][src])
        y3d[i] = s["gt"][np.clip(np.arange(lo, lo + n), 0, len(s["gt"]) - 1)]
    mirror_half(x2d, y3d, rng, world)
    x2d[~key] = 0.0
    return {"x2d": x2d, "key": key, "y3d": y3d, "world": world}
