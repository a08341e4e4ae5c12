"""The `rendered` evaluation: real MediaPipe on rendered humans of the val split, whose joints are exact.

Each rendered clip has MediaPipe (full) on its key-frames, rendered every `stride` frames (3-10 at 30 fps,
6-20 for the 60 fps clips of `val_60fps`, chosen per clip by the renderer; s_in counts video frames at the
clip's own rate) and the exact joints on every frame in between. For a target s_in each
clip uses every m-th rendered key-frame, m = round(s_in / stride), so its real spacing is the multiple of its
stride nearest s_in; clips whose nearest multiple is more than 25 % off s_in are left out (the table gives
the real spacings). Scored:
  ours       `uplift()` on MediaPipe's 2D at those key-frames, every frame (camera coordinates, no alignment)
  bilinear   our own key-frame outputs interpolated linearly (what the learned in-betweens must beat)
  MediaPipe  its world landmarks on the same key-frames, interpolated, turned by the one rotation per clip
             that fits best (they have their own axes) - what a dense-MediaPipe tool would give at that rate
  ours+world the issue's question "should the lifter also see MediaPipe's world landmarks?", asked without
             training: on the key-frames, ours and their world landmarks (turned onto ours by one rotation per
             clip fitted to ours, never to the truth) averaged half and half on the limb and head joints, the
             change interpolated in between. If even this beats ours, the world landmarks carry information
             our 2D-only lift misses.
MPJPE over all 17 joints and over the 13 limb and head joints (torso joints are defined differently by
MediaPipe), P-MPJPE and acceleration error, frame-weighted over clips.
"""

from __future__ import annotations

import numpy as np

from ..lift import DEFAULT_HOP, uplift
from ..lift.inbetween import interpolate_keys
from ..skeleton import INDEX
from . import metrics as M
from .evaluate import bilinear
from .landmark_fit import MEASURED

STRIDES = (5, 10, 20)
MAX_SPACING_OFF = 0.25  # a clip's real key spacing may differ this much (relative) from the target s_in
LIMBS = np.array([INDEX[n] for n in MEASURED if n != "Neck"])  # limbs and head: MediaPipe's own points


WORLD_BLEND = 0.5  # fixed before looking: an equal average, not tuned on these val clips


def blend_world(ours: np.ndarray, mp_world: np.ndarray, keys: np.ndarray, w: float = WORLD_BLEND) -> np.ndarray:
    """ours [T,17,3] (pelvis-relative camera) nudged towards MediaPipe's world landmarks on the key rows."""
    a = ours[keys]
    b = mp_world[keys] - mp_world[keys][:, :1]
    b = M.rotation_aligned(b, a)  # their axes onto ours: fitted to our own output only
    delta = np.zeros_like(ours)
    delta[keys[:, None], LIMBS[None, :]] = w * (b[:, LIMBS] - a[:, LIMBS])
    return ours + interpolate_keys(delta, keys)


def _scores(preds: list[np.ndarray], gts: list[np.ndarray]) -> dict[str, float]:
    w = [len(g) for g in gts]

    def avg(fn, sel=slice(None)) -> float:
        return float(np.average([fn(p[:, sel], g[:, sel]) for p, g in zip(preds, gts)], weights=w))

    return {
        "MPJPE": avg(M.mpjpe),
        "MPJPE_limbs": avg(M.mpjpe, LIMBS),
        "P-MPJPE": avg(M.p_mpjpe),
        "acc_err": avg(M.acceleration_error),
        "range_%": avg(M.motion_range),
    }


def evaluate_rendered(
    seqs: list[dict], strides=STRIDES, weights=None, hop: int = DEFAULT_HOP, flip_tta: bool = True
) -> dict:
    res: dict = {}
    for s_in in strides:
        ours, bil, mp, gts, spacing, fused = [], [], [], [], [], []
        for s in seqs:
            m = max(1, round(s_in / s["stride"]))
            if abs(m * s["stride"] - s_in) > MAX_SPACING_OFF * s_in:
                continue
            keys = s["keys"][::m]
            ok = keys[np.isfinite(s["px"][keys]).all(axis=(1, 2))]
            if len(ok) < 2:
                continue
            px = np.full_like(s["px"], np.nan)
            px[ok] = s["px"][ok]
            # their world landmarks go in too; only weights trained with them (cfg.world_input) read them
            p = uplift(px, s["size"], s["fps"], weights=weights, hop=hop, flip_tta=flip_tta, world=s["mp_world"])
            world = bilinear(s["mp_world"], ok)
            world = world - world[:, :1]
            ours.append(p)
            fused.append(blend_world(p, s["mp_world"], ok))
            bil.append(bilinear(p, ok))
            mp.append(M.rotation_aligned(world, s["gt"]))
            gts.append(s["gt"])
            spacing.append(m * s["stride"])
        if not gts:
            continue
        res[s_in] = {
            "clips": len(gts),
            "frames": int(sum(len(g) for g in gts)),
            "spacing": f"{min(spacing)}-{max(spacing)}" if min(spacing) != max(spacing) else str(spacing[0]),
            "ours": _scores(ours, gts),
            "bilinear": _scores(bil, gts),
            "mediapipe_world": _scores(mp, gts),
            "ours+world": _scores(fused, gts),
        }
    return res


def rendered_table(res: dict) -> str:
    cols = ["MPJPE", "MPJPE_limbs", "P-MPJPE", "acc_err", "range_%"]
    head = "| s_in | real spacing | clips | frames | method | "
    lines = [head + " | ".join(cols) + " |", "|---|---|---|---|---|" + "---|" * len(cols)]
    for s_in, r in res.items():
        for method in ("ours", "bilinear", "mediapipe_world", "ours+world"):
            vals = " | ".join(f"{r[method][c]:.1f}" for c in cols)
            lines.append(f"| {s_in} | {r['spacing']} | {r['clips']} | {r['frames']} | {method} | {vals} |")
    return "\n".join(lines)
