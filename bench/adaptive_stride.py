"""Auto vs fixed stride on synthetic clips: mocap -> virtual camera -> MediaPipe-like 2D -> the shipped model.

Protocol (seeded): each clip of a group (kicks, jumps/hops, dance, idle) is seen by one virtual 1920x1080
camera (inference/training/cameras.py, whole clip in view); its 2D is the projected MediaPipe-like points
(mean landmark offsets, inference/training/noise.py) plus i.i.d. Gaussian noise of sigma = 3 px, drawn once
per frame, so every method "detects" the same 2D on a frame. Detection is simulated by revealing those
rows; `inference.keyframes` chooses the auto key-frames exactly as the pipeline does, and the clip is lifted
with the public `uplift` (shipped weights). MPJPE over all frames, pelvis-relative camera coordinates.

Baselines: "fixed, same calls" = as many key-frames as auto used, spread evenly (first and last frame
included); "fixed 10" = the default stride. Idle clips are cut into 20 s pieces.

    .venv/bin/python bench/adaptive_stride.py --split train --tune      # choose the defaults
    .venv/bin/python bench/adaptive_stride.py --split val --write       # the table in BENCHMARKS.md
    .venv/bin/python bench/adaptive_stride.py --real --write     # the shared videos: key-frames, passes, seconds
    .venv/bin/python bench/adaptive_limits.py --write    # what any key-frame choice could gain (same clips)
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import re
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inference.keyframes import AutoStride, even_keys, first_pass, refine_loop  # noqa: E402

GROUPS = {  # group -> pattern on "source clip description"
    "kick": r"kick",
    "jump": r"hop|jump",
    "dance": r"dance",
    "idle": r"standing idle",
}
FAST = ("kick", "jump", "dance")


def synth_clips(
    split: str, per_group: int, max_frames: int, sigma: float, seed: int = 0, min_frames: int = 30
) -> list[dict]:
    """Projected clips with group labels: px [T,17,2] (noisy 2D of every frame) and gt [T,17,3]."""
    from inference.pose2d.landmarks import canonical_torso_2d
    from inference.training.cameras import fixed_cameras
    from inference.training.data import DEFAULT_MOCAP, load_clips
    from inference.training.noise import detector_points_3d

    index = json.loads((DEFAULT_MOCAP / "index.json").read_text())
    desc = {e["clip"]: f"{e['source']} {e['clip']} {e['description']}" for e in index["clips"]}
    out: list[dict] = []
    counts = dict.fromkeys(GROUPS, 0)
    for k, clip in enumerate(load_clips(DEFAULT_MOCAP, fps=30.0, split=split)):
        text = desc.get(clip.name.split("#")[0], clip.name)
        group = next((g for g, pat in GROUPS.items() if re.search(pat, text, re.I)), None)
        if group is None or counts[group] >= per_group:
            continue
        step = 600 if group == "idle" else len(clip.joints)  # idle: 20 s pieces
        for p, s in enumerate(range(0, len(clip.joints), step)):
            piece = clip.joints[s : s + step][:max_frames]
            if len(piece) < min_frames or counts[group] >= per_group:
                continue
            rng = np.random.default_rng(seed + 1000 * k + p)
            world = piece[None]
            cams = fixed_cameras(world, (1920, 1080), rng)
            cam3d = cams.to_camera(world)
            px = cams.project(detector_points_3d(cam3d, None))
            px = px + rng.standard_normal(px.shape).astype(np.float32) * sigma
            out.append(
                {
                    "name": f"{clip.name}@{s}",
                    "group": group,
                    "px": canonical_torso_2d(px[0]),
                    "gt": (cam3d - cam3d[:, :, :1])[0],
                }
            )
            counts[group] += 1
    return out


_ERRORS: dict[tuple[int, bytes], float] = {}


def lift_error(px: np.ndarray, gt: np.ndarray, keys: np.ndarray) -> float:
    """MPJPE (mm, all frames) of the shipped model given 2D on `keys` only (memoised: the grid repeats)."""
    from inference.lift import uplift

    memo = (id(px), np.asarray(keys, np.int64).tobytes())
    if memo not in _ERRORS:
        pts = np.full_like(px, np.nan)
        pts[keys] = px[keys]
        pred = uplift(pts, (1920, 1080), 30.0)
        _ERRORS[memo] = float(np.linalg.norm(pred - gt, axis=-1).mean() * 1000)
    return _ERRORS[memo]


def auto_keys(px: np.ndarray, cfg: AutoStride, fps: float = 30.0) -> tuple[np.ndarray, int]:
    """The key-frames auto chooses when 'detection' returns the rows of px (the pipeline's loop)."""
    T = len(px)
    cfg = cfg.at_fps(fps)  # as the pipeline does: the synthetic clips are 30 fps
    seen = set(first_pass(T, cfg).tolist())

    def observe(new: list[int]) -> tuple[np.ndarray, np.ndarray]:
        seen.update(new)
        keys = np.array(sorted(seen))
        return keys, px[keys]

    keys = np.array(sorted(seen))
    keys, _, passes = refine_loop(observe, keys, px[keys], T, cfg)
    return keys, passes


def evaluate(clips: list[dict], cfg: AutoStride, fixed_strides=(10,)) -> list[dict]:
    rows = []
    for c in clips:
        T = len(c["px"])
        keys, passes = auto_keys(c["px"], cfg)
        row = {
            "name": c["name"],
            "group": c["group"],
            "frames": T,
            "auto_calls": len(keys),
            "passes": passes,
            "auto": lift_error(c["px"], c["gt"], keys),
            "same_calls": lift_error(c["px"], c["gt"], even_keys(T, len(keys))),
        }
        for s in fixed_strides:
            k = np.arange(0, T, s)
            row[f"fixed{s}_calls"], row[f"fixed{s}"] = len(k), lift_error(c["px"], c["gt"], k)
        rows.append(row)
    return rows


def summarise(rows: list[dict], fixed_strides=(10,)) -> dict:
    """Per group: frame-weighted MPJPE, calls per 100 frames, and the targets' ratios."""
    out = {}
    for g in [*GROUPS, "fast"]:
        rs = [r for r in rows if (r["group"] in FAST if g == "fast" else r["group"] == g)]
        if not rs:
            continue
        w = np.array([r["frames"] for r in rs], float)
        frames = w.sum()

        def avg(key, rs=rs, w=w):
            return float(np.average([r[key] for r in rs], weights=w))

        s = {
            "clips": len(rs),
            "frames": int(frames),
            "auto": avg("auto"),
            "same_calls": avg("same_calls"),
            "auto_calls": int(sum(r["auto_calls"] for r in rs)),
            "passes": float(np.mean([r["passes"] for r in rs])),
        }
        s["effective_stride"] = frames / s["auto_calls"]
        s["gain_vs_same_calls"] = 1.0 - s["auto"] / s["same_calls"]
        for f in fixed_strides:
            s[f"fixed{f}"], s[f"fixed{f}_calls"] = avg(f"fixed{f}"), int(sum(r[f"fixed{f}_calls"] for r in rs))
            s[f"calls_ratio_fixed{f}"] = s[f"fixed{f}_calls"] / s["auto_calls"]
        out[g] = s
    return out


def table(summary: dict, cfg: AutoStride) -> str:
    settings = (
        f"Settings: base {cfg.at_fps(30.0).base} frames at 30 fps, threshold {cfg.threshold} body heights, "
        f"min gap {cfg.min_gap}, passes <= {cfg.passes}, root weight {cfg.root_weight}, grade {cfg.grade}."
    )
    header = (
        "| clips | n | frames | auto: calls / eff. stride | auto MPJPE | fixed, same calls | auto gain | "
        "fixed 10: calls | fixed 10 MPJPE | fixed 10 calls / auto calls |"
    )
    lines = [settings, "", header, "|---|---|---|---|---|---|---|---|---|---|"]
    for g, s in summary.items():
        lines.append(
            f"| {g} | {s['clips']} | {s['frames']} | {s['auto_calls']} / {s['effective_stride']:.1f} | "
            f"{s['auto']:.1f} | {s['same_calls']:.1f} | {100 * s['gain_vs_same_calls']:+.1f} % | "
            f"{s['fixed10_calls']} | {s['fixed10']:.1f} | {s['calls_ratio_fixed10']:.2f}x |"
        )
    return "\n".join(lines)


def tune(clips: list[dict]) -> list[dict]:
    """A small grid on the given (training) clips (earlier grids: BENCHMARKS.md)."""
    results = []
    for base, thr, grade in itertools.product((20, 24, 30), (0.2, 0.3), (1.5, 2.0)):
        cfg = AutoStride(base=base, threshold=thr, grade=grade, base_seconds=None)
        t0 = time.perf_counter()
        s = summarise(evaluate(clips, cfg))
        results.append({"cfg": asdict(cfg), "summary": s, "seconds": time.perf_counter() - t0})
        f, i = s.get("fast", {}), s.get("idle", {})
        gain = 100 * f.get("gain_vs_same_calls", 0)
        print(
            f"base {base:2d} thr {thr:.2f} grade {grade:.1f}: fast gain {gain:+.1f} % "
            f"(eff {f.get('effective_stride', 0):.1f}), idle eff {i.get('effective_stride', 0):.1f} "
            f"auto {i.get('auto', 0):.1f} vs fixed10 {i.get('fixed10', 0):.1f} mm; fast auto {f.get('auto', 0):.1f} "
            f"vs fixed10 {f.get('fixed10', 0):.1f}",
            flush=True,
        )
    return results


def real_clips(videos: list[Path], strides=(10, "auto")) -> list[dict]:
    """The shared clips through the real pipeline (MediaPipe full, shipped lifter), warm: key-frames used,
    passes over the video, seconds per stage, and what the report flagged."""
    from inference import capture

    capture(videos[0], 20, max_people=1)  # warm-up: MediaPipe graph, torch, weights
    rows = []
    for v in videos:
        for s in strides:
            t0 = time.perf_counter()
            r = capture(v, s)
            wall = time.perf_counter() - t0
            rep = r.report
            rows.append(
                {
                    "clip": v.name,
                    "stride": s,
                    "frames": rep.frames,
                    "keyframes": len(r.keyframes),
                    "effective_stride": rep.effective_stride,
                    "passes": rep.passes,
                    "detection_rate": rep.detection_rate,
                    "decode": r.timings.decode,
                    "pose2d": r.timings.pose2d,
                    "uplift": r.timings.uplift,
                    "total": wall,
                    "flags": rep.counts(),
                    "jitter": rep.metrics.jitter,
                }
            )
            print(
                f"{v.name} stride {s}: {len(r.keyframes)} key-frames, {rep.passes} passes, {wall:.1f} s; "
                f"{rep.summary()}",
                flush=True,
            )
    return rows


def real_table(rows: list[dict]) -> str:
    lines = [
        "| clip | stride | key-frames (eff. stride) | passes | decode s | 2D s | 3D s | total s | flags |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        flags = ", ".join(f"{n} {k}" for k, n in r["flags"].items()) or "none"
        lines.append(
            f"| {r['clip'].split('_')[0]} | {r['stride']} | {r['keyframes']} ({r['effective_stride']:.1f}) | "
            f"{r['passes']} | {r['decode']:.1f} | {r['pose2d']:.1f} | {r['uplift']:.1f} | {r['total']:.1f} | "
            f"{flags} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="val", choices=("train", "val"))
    ap.add_argument("--per-group", type=int, default=12, help="clips (idle: 20 s pieces) per group at most")
    ap.add_argument("--max-frames", type=int, default=600)
    ap.add_argument("--sigma", type=float, default=3.0)
    ap.add_argument("--tune", action="store_true", help="run the settings grid instead of the defaults")
    ap.add_argument("--base", type=int)
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--out", type=Path, default=Path("runs/adaptive"))
    ap.add_argument("--real", action="store_true", help="the shared clips through the real pipeline instead")
    ap.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.real:
        import os

        shared = Path(os.environ.get("UPLIFT_SHARED", REPO.parent / "shared"))
        os.environ.setdefault("UPLIFT_POSE_MODEL", str(shared / "models"))
        rows = real_clips(sorted((shared / "videos").glob("*.mp4")))
        md = real_table(rows)
        (a.out / "adaptive_real.json").write_text(json.dumps(rows, indent=1))
        (a.out / "adaptive_real.md").write_text(md + "\n")
        print(md)
        if a.write:
            write_section("adaptive-real", f"{conditions()}; MediaPipe full, up to 3 people, warm.\n\n{md}")
        return 0
    clips = synth_clips(a.split, a.per_group, a.max_frames, a.sigma)
    print(
        f"{len(clips)} clips ({a.split}): " + ", ".join(f"{g} {sum(c['group'] == g for c in clips)}" for g in GROUPS),
        flush=True,
    )
    if a.tune:
        res = tune(clips)
        (a.out / f"tune_{a.split}.json").write_text(json.dumps(res, indent=1))
        return 0
    cfg = AutoStride()
    if a.base is not None:  # frames, whatever the rate
        cfg = replace(cfg, base=a.base, base_seconds=None)
    if a.threshold is not None:
        cfg = replace(cfg, threshold=a.threshold)
    t0 = time.perf_counter()
    rows = evaluate(clips, cfg)
    s = summarise(rows)
    md = table(s, cfg)
    (a.out / f"adaptive_{a.split}.json").write_text(
        json.dumps({"cfg": asdict(cfg), "rows": rows, "summary": s}, indent=1)
    )
    (a.out / f"adaptive_{a.split}.md").write_text(md + "\n")
    print(md)
    print(f"({time.perf_counter() - t0:.0f} s)")
    if a.write:
        clips_line = f"{len(clips)} {a.split} clips, sigma {a.sigma} px, at most {a.max_frames} frames each"
        write_section(f"adaptive-synthetic-{a.split}", f"{conditions()}; {clips_line}.\n\n{md}")
    return 0


def conditions() -> str:
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"Run {when}, {platform.platform()}, {os.cpu_count()} CPU(s), load average {load} when it ended"


def write_section(name: str, body: str) -> None:
    """One generated table of BENCHMARKS.md, inside the hand-written `adaptive` section (speed.py's writer)."""
    spec = importlib.util.spec_from_file_location("bench_speed", Path(__file__).with_name("speed.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.update_benchmarks(REPO / "BENCHMARKS.md", name, body)


if __name__ == "__main__":
    raise SystemExit(main())
