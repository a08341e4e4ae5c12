"""`python -m inference evaluate`: accuracy and smoothness on the validation split, learned vs bilinear.

Protocol (fixed, seeded): each val clip (inference/training/data.py split, 30 Hz) seen by one virtual camera at
1920x1080 (inference/training/cameras.py with the training ranges, whole clip in view), 2D = projected MediaPipe-like
points with mean landmark offsets (inference/training/noise.py) + i.i.d. Gaussian noise sigma = 3 px, torso rebuilt
as for MediaPipe. Key-frames t % s_in == 0; the clip runs through the public `uplift` (flip TTA, default hop).
"bilinear" = the same model's predictions on the key-frames only, linearly interpolated in between (the
paper's s_out = s_in baseline). To keep it to minutes, clips are cut to --max-frames (default 600 = 20 s).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ..lift import DEFAULT_HOP, DEFAULT_WEIGHTS, load_model, uplift
from ..pose2d.landmarks import canonical_torso_2d
from . import metrics as M
from .cameras import fixed_cameras
from .data import DEFAULT_MOCAP, load_clips
from .noise import detector_points_3d

STRIDES = (1, 2, 5, 10, 20)


def val_sequences(
    mocap: str | Path,
    fps: float,
    max_frames: int,
    sigma_px: float,
    size=(1920, 1080),
    max_clips: int | None = None,
    seed: int = 0,
) -> list[dict]:
    """Projected val clips: dicts with px [T,17,2] pixels and gt [T,17,3] camera, pelvis-relative."""
    out = []
    for k, clip in enumerate(load_clips(mocap, fps=fps, split="val")):
        if max_clips and len(out) >= max_clips:
            break
        if len(clip.joints) < 2 * 20 + 1:
            continue
        rng = np.random.default_rng(seed + k)
        world = clip.joints[:max_frames][None]
        cams = fixed_cameras(world, size, rng)
        cam3d = cams.to_camera(world)
        px = cams.project(detector_points_3d(cam3d, None))
        px = px + rng.standard_normal(px.shape).astype(np.float32) * sigma_px
        out.append({"name": clip.name, "px": canonical_torso_2d(px[0]), "gt": (cam3d - cam3d[:, :, :1])[0]})
    return out


def bilinear(pred: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Keep predictions on key-frames only and interpolate linearly in time (hold at the edges)."""
    t = np.arange(len(pred))
    flat = pred.reshape(len(pred), -1)
    return np.stack([np.interp(t, keys, flat[keys, i]) for i in range(flat.shape[1])], 1).reshape(pred.shape)


def score(preds: list[np.ndarray], gts: list[np.ndarray], keys: list[np.ndarray]) -> dict:
    """Frame-weighted metrics over clips (temporal ones computed within clips)."""
    w = np.array([len(g) for g in gts], dtype=float)

    def avg(fn, ps=preds, gs=gts, ww=w):
        return float(np.average([fn(p, g) for p, g in zip(ps, gs)], weights=ww))

    kp = [p[k] for p, k in zip(preds, keys)]
    kg = [g[k] for g, k in zip(gts, keys)]
    return {
        "MPJPE": avg(M.mpjpe),
        "MPJPE_key": avg(M.mpjpe, kp, kg, [len(k) for k in keys]),
        "N-MPJPE": avg(M.n_mpjpe),
        "P-MPJPE": avg(M.p_mpjpe),
        "vel_err": avg(M.velocity_error),
        "acc_err": avg(M.acceleration_error),
        "bone_std": float(np.average([M.bone_length_std(p) for p in preds], weights=w)),
    }


def evaluate(
    seqs: list[dict], strides=STRIDES, fps: float = 30.0, hop: int = DEFAULT_HOP, weights=None, flip_tta: bool = True
) -> dict:
    res: dict = {"learned": {}, "bilinear": {}, "seconds": {}}
    gts = [s["gt"] for s in seqs]
    for s_in in strides:
        preds, bil, keys = [], [], []
        t0 = time.perf_counter()
        for s in seqs:
            px = s["px"].copy()
            k = np.arange(0, len(px), s_in)
            px[np.setdiff1d(np.arange(len(px)), k)] = np.nan
            p = uplift(px, (1920, 1080), fps, weights=weights, hop=hop, flip_tta=flip_tta)
            preds.append(p)
            bil.append(bilinear(p, k))
            keys.append(k)
        res["seconds"][s_in] = time.perf_counter() - t0
        res["learned"][s_in] = score(preds, gts, keys)
        res["bilinear"][s_in] = score(bil, gts, keys)
    res["gt_bone_std"] = float(np.average([M.bone_length_std(g) for g in gts], weights=[len(g) for g in gts]))
    return res


def table(res: dict) -> str:
    cols = ["MPJPE", "MPJPE_key", "N-MPJPE", "P-MPJPE", "vel_err", "acc_err", "bone_std"]
    lines = ["| method | s_in | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for method in ("learned", "bilinear"):
        for s_in, m in res[method].items():
            lines.append(f"| {method} | {s_in} | " + " | ".join(f"{m[c]:.1f}" for c in cols) + " |")
    return "\n".join(lines)


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    for method, style in (("learned", "o-"), ("bilinear", "s--")):
        s = list(res[method])
        ax.plot(s, [res[method][k]["MPJPE"] for k in s], style, label=method)
    ax.set_xlabel("key-frame stride s_in (30 Hz frames)")
    ax.set_ylabel("MPJPE, all frames (mm)")
    ax.set_title("Validation split, 1920x1080, sigma=3 px")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m inference evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--weights", default=None, help=f"safetensors file (default {DEFAULT_WEIGHTS})")
    p.add_argument("--mocap", default=str(DEFAULT_MOCAP))
    p.add_argument("--strides", default=",".join(map(str, STRIDES)))
    p.add_argument("--sigma", type=float, default=3.0, help="2D noise in pixels")
    p.add_argument("--max-frames", type=int, default=600)
    p.add_argument("--max-clips", type=int, default=None)
    p.add_argument("--hop", type=int, default=DEFAULT_HOP)
    p.add_argument("--no-flip", action="store_true")
    p.add_argument("--out", default="runs/eval", help="folder for eval.json, eval.md, mpjpe_vs_stride.png")
    a = p.parse_args(argv)
    model = load_model(a.weights, "auto")
    seqs = val_sequences(a.mocap, model.cfg.fps / model.cfg.s_out, a.max_frames, a.sigma, max_clips=a.max_clips)
    print(f"{len(seqs)} val clips, {sum(len(s['gt']) for s in seqs)} frames", flush=True)
    res = evaluate(
        seqs, [int(s) for s in a.strides.split(",")], model.cfg.fps / model.cfg.s_out, a.hop, a.weights, not a.no_flip
    )
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(res, indent=1))
    md = table(res) + f"\n\nGround-truth bone-length std: {res['gt_bone_std']:.1f} mm (bone scaling is per clip).\n"
    (out / "eval.md").write_text(md)
    plot(res, out / "mpjpe_vs_stride.png")
    print(md)
    print(f"wrote {out}/eval.json, eval.md, mpjpe_vs_stride.png")
    return 0
