"""`python -m inference evaluate`: accuracy and smoothness on the validation split, learned vs interpolation.

Input modes (why three: a model can look good on 2D that sits exactly where its training put it and fail on
a real detector's points):
  exact     the val clips' joints projected by virtual cameras (training ranges, whole clip in view) plus
            i.i.d. Gaussian noise of --sigma px; no landmark offsets at all.
  measured  the same cameras through the measured MediaPipe landmark model (noise.py: offsets in body frames,
            jitter, outliers, swaps; fixed seed).
  rendered  real MediaPipe on rendered humans of the val split (`python -m addon.render_humans --split val`,
            and `--fps 60` for the 60 fps clips in val_60fps/), see evaluate_rendered.py; also scores MediaPipe's
            own world landmarks on the same key-frames. At 60 fps s_in is 10 / 20 / 40: the same seconds.
  posed     the rendered mode's bodies and cameras without renderer or detector: exact 2D of the posed Anny
            bodies, and of the mocap skeletons that posed them (evaluate_posed.py; --max-clips val plans).
exact and measured run at --fps 30 and 60 (key-frames every s_in video frames); the clip runs through the
public `uplift` (flip TTA, default hop). "bilinear" = the same model's predictions on the key-frames only,
linearly interpolated in between (interpolating our own key-frames; the paper's s_out = s_in baseline).
Clips are cut to --max-frames model-rate frames to keep it to minutes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ..lift import DEFAULT_HOP, DEFAULT_WEIGHTS, load_model, uplift
from ..lift.inbetween import interpolate_keys
from ..pose2d.landmarks import canonical_torso_2d
from . import metrics as M
from .cameras import fixed_cameras
from .data import DEFAULT_MOCAP, load_clips
from .noise import detector_noise, detector_points_3d

STRIDES = (1, 2, 5, 10, 20)
SIZE = (1920, 1080)
SYNTHETIC_MODES = ("exact", "measured")


def val_sequences(
    mocap: str | Path,
    fps: float,
    max_frames: int,
    sigma_px: float,
    size: tuple[int, int] = SIZE,
    max_clips: int | None = None,
    seed: int = 0,
    mode: str = "exact",
) -> list[dict]:
    """Projected val clips at `fps`: dicts with px [T,17,2] pixels, gt [T,17,3] camera, pelvis-relative, size.

    max_frames counts frames at 30 Hz (so 30 and 60 fps see the same seconds of each clip)."""
    if mode not in SYNTHETIC_MODES:
        raise ValueError(f"mode must be one of {SYNTHETIC_MODES}, not {mode!r}")
    keep = int(round(max_frames / 30.0 * fps))
    out = []
    for k, clip in enumerate(load_clips(mocap, fps=fps, split="val")):
        if max_clips and len(out) >= max_clips:
            break
        if len(clip.joints) < int(round((2 * 20 + 1) * fps / 30.0)):
            continue
        rng = np.random.default_rng(seed + k)
        world = clip.joints[:keep][None]
        cams = fixed_cameras(world, size, rng)
        cam3d = cams.to_camera(world)
        if mode == "exact":
            px = cams.project(cam3d)
            px = px + rng.standard_normal(px.shape).astype(np.float32) * sigma_px
        else:
            px = detector_noise(cams.project(detector_points_3d(cam3d, None)), rng)
        out.append(
            {"name": clip.name, "px": canonical_torso_2d(px[0]), "gt": (cam3d - cam3d[:, :, :1])[0], "size": size}
        )
    return out


def bilinear(pred: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Keep predictions on key-frames only and interpolate linearly in time (hold at the edges): the
    interpolation `uplift` steadies its in-betweens against (inference/lift/inbetween.py)."""
    return interpolate_keys(np.asarray(pred, np.float64), np.asarray(keys, np.int64))


def score(preds: list[np.ndarray], gts: list[np.ndarray], keys: list[np.ndarray]) -> dict:
    """Frame-weighted metrics over clips (temporal ones computed within clips)."""
    w = np.array([len(g) for g in gts], dtype=float)

    def avg(fn, ps=preds, gs=gts, ww=w):
        return float(np.average([fn(p, g) for p, g in zip(ps, gs)], weights=ww))

    kp = [p[k] for p, k in zip(preds, keys)]
    kg = [g[k] for g, k in zip(gts, keys)]
    off = [np.setdiff1d(np.arange(len(g)), k) for g, k in zip(gts, keys)]
    nonkey = float("nan")  # s_in = 1: every frame is a key-frame
    if all(len(o) for o in off):
        nonkey = avg(
            M.mpjpe, [p[o] for p, o in zip(preds, off)], [g[o] for g, o in zip(gts, off)], [len(o) for o in off]
        )
    return {
        "MPJPE": avg(M.mpjpe),
        "MPJPE_key": avg(M.mpjpe, kp, kg, [len(k) for k in keys]),
        "MPJPE_nonkey": nonkey,
        "N-MPJPE": avg(M.n_mpjpe),
        "P-MPJPE": avg(M.p_mpjpe),
        "vel_err": avg(M.velocity_error),
        "acc_err": avg(M.acceleration_error),
        "range_%": avg(M.motion_range),
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
            p = uplift(px, s["size"], fps, weights=weights, hop=hop, flip_tta=flip_tta)
            preds.append(p)
            bil.append(bilinear(p, k))
            keys.append(k)
        res["seconds"][s_in] = time.perf_counter() - t0
        res["learned"][s_in] = score(preds, gts, keys)
        res["bilinear"][s_in] = score(bil, gts, keys)
    res["gt_bone_std"] = float(np.average([M.bone_length_std(g) for g in gts], weights=[len(g) for g in gts]))
    return res


def table(res: dict) -> str:
    cols = ["MPJPE", "MPJPE_key", "MPJPE_nonkey", "N-MPJPE", "P-MPJPE", "vel_err", "acc_err", "range_%", "bone_std"]
    lines = ["| method | s_in | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for method in ("learned", "bilinear"):
        for s_in, m in res[method].items():
            lines.append(f"| {method} | {s_in} | " + " | ".join(f"{m[c]:.1f}" for c in cols) + " |")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    """MPJPE against stride for each input mode at 30 fps, learned vs interpolating our key-frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=120)
    for mode, by_fps in results.items():
        res = by_fps.get("30") or next(iter(by_fps.values()))
        if "learned" not in res:  # the rendered mode has its own table
            continue
        for method, style in (("learned", "o-"), ("bilinear", "s--")):
            s = list(res[method])
            ax.plot([int(k) for k in s], [res[method][k]["MPJPE"] for k in s], style, label=f"{mode}: {method}")
    ax.set_xlabel("key-frame stride s_in (video frames at 30 fps)")
    ax.set_ylabel("MPJPE, all frames (mm)")
    ax.set_title("Validation split")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m inference evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--weights", default=None, help=f"safetensors file (default {DEFAULT_WEIGHTS})")
    p.add_argument("--mocap", default=str(DEFAULT_MOCAP))
    p.add_argument("--modes", default="exact,measured,rendered", help="input modes (see above)")
    p.add_argument("--fps", default="30,60", help="video frame rates (rendered: the rates with pairs rendered)")
    p.add_argument(
        "--pairs", default="runs/rendered", help="rendered pairs (the rendered mode uses val/ and val_60fps/)"
    )
    p.add_argument("--strides", default=",".join(map(str, STRIDES)))
    p.add_argument("--sigma", type=float, default=3.0, help="2D noise in pixels (exact mode)")
    p.add_argument("--max-frames", type=int, default=600, help="per clip, in 30 Hz frames")
    p.add_argument("--max-clips", type=int, default=None)
    p.add_argument("--hop", type=int, default=DEFAULT_HOP)
    p.add_argument("--no-flip", action="store_true")
    p.add_argument("--out", default="runs/eval", help="folder for eval.json, eval.md, mpjpe_vs_stride.png")
    a = p.parse_args(argv)
    load_model(a.weights, "auto")
    strides = [int(s) for s in a.strides.split(",")]
    fps_list = [float(f) for f in a.fps.split(",")]
    results: dict = {}
    md = []
    for mode in a.modes.split(","):
        if mode == "rendered":
            from .evaluate_rendered import STRIDES as R_STRIDES
            from .evaluate_rendered import evaluate_rendered, rendered_table
            from .pairs import rendered_sequences, split_folder

            for fps in fps_list:  # val/ holds the 30 fps clips, val_60fps/ the 60 fps ones
                folder = Path(a.pairs) / split_folder("val", fps)
                seqs = rendered_sequences(folder)
                if not seqs:
                    print(f"rendered: no val pairs under {folder}; skipped", flush=True)
                    continue
                r_strides = tuple(round(s * fps / 30.0) for s in R_STRIDES)  # the same seconds at every rate
                res = evaluate_rendered(seqs, r_strides, weights=a.weights, hop=a.hop, flip_tta=not a.no_flip)
                results.setdefault(mode, {})[f"{fps:g}"] = res
                md.append(
                    f"### rendered (real MediaPipe full on {len(seqs)} rendered val clips, {fps:g} fps)\n\n"
                    + rendered_table(res)
                )
                print(md[-1], flush=True)
            continue
        if mode == "posed":
            from .evaluate_posed import evaluate_posed, posed_sequences, posed_table
            from .render_plan import clip_order

            vclips = [c for c in clip_order(load_clips(a.mocap, fps=30.0, split="val")) if len(c.joints) >= 2]
            pseqs = posed_sequences(vclips[: a.max_clips or 20], sigma=a.sigma)
            res = evaluate_posed(pseqs, [s for s in strides if s > 1], weights=a.weights, hop=a.hop)
            results[mode] = {"30": res}
            md.append(f"### posed (exact 2D of {len(pseqs)} posed val bodies, 30 fps)\n\n" + posed_table(res))
            print(md[-1], flush=True)
            continue
        for fps in fps_list:
            seqs = val_sequences(a.mocap, fps, a.max_frames, a.sigma, max_clips=a.max_clips, mode=mode)
            n = sum(len(s["gt"]) for s in seqs)
            print(f"{mode} @ {fps:g} fps: {len(seqs)} val clips, {n} frames", flush=True)
            res = evaluate(seqs, strides, fps, a.hop, a.weights, not a.no_flip)
            results.setdefault(mode, {})[f"{fps:g}"] = res
            md.append(
                f"### {mode}, {fps:g} fps ({len(seqs)} val clips, {n} frames)\n\n{table(res)}\n\n"
                f"Ground-truth bone-length std: {res['gt_bone_std']:.1f} mm (bone scaling is per clip)."
            )
            print(md[-1], flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(results, indent=1))
    (out / "eval.md").write_text("\n\n".join(md) + "\n")
    synthetic = any("learned" in r for by_fps in results.values() for r in by_fps.values())
    if synthetic:  # the plot shows the synthetic modes; rendered and posed have only their tables
        plot(results, out / "mpjpe_vs_stride.png")
    print(f"wrote {out}/eval.json, eval.md" + (", mpjpe_vs_stride.png" if synthetic else ""))
    return 0
