"""Render rate and detection rate of the rendered-humans run, from its progress logs.

    .venv/bin/python bench/render_rate.py [--runs runs/rendered] [--no-write] [--note "..."]

Reads `<runs>/<split>/progress.jsonl` (one line per finished clip, written by addon/render_humans.py) and
writes the "render_humans" section of BENCHMARKS.md: frames per minute over whole clips (setup, posing,
scene, Cycles, MediaPipe and the npz write all counted), the Cycles time per frame alone, and how often
MediaPipe full / lite found the body. The rate is what this 2-core box gave while other work shared it:
the load average at the end is printed with it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _speed_module():
    spec = importlib.util.spec_from_file_location("bench_speed", Path(__file__).with_name("speed.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_progress(runs: Path) -> list[dict]:
    rows = []
    for path in sorted(runs.glob("*/progress.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


def summarise(rows: list[dict]) -> dict:
    keys = np.array([r["keys"] for r in rows])
    total = np.array([r["total_s"] for r in rows])
    render = np.array([r["render_s_per_frame"] for r in rows])
    out = {
        "clips": len(rows),
        "frames": int(keys.sum()),
        "frames_per_min": float(keys.sum() / total.sum() * 60.0),
        "render_s_per_frame": float(np.sum(render * keys) / keys.sum()),
        "render_s_p10_p90": (float(np.percentile(render, 10)), float(np.percentile(render, 90))),
        "detect_s_per_frame": float(np.sum(np.array([r["detect_s_per_frame"] for r in rows]) * keys) / keys.sum()),
        "setup_s_per_clip": float(np.mean([r["setup_s"] for r in rows])),
    }
    loads = [r["load1"] for r in rows if "load1" in r]  # 1-min load average as each clip finished
    out["load1_median"] = float(np.median(loads)) if loads else float("nan")
    for m in ("full", "lite"):
        found = np.array([r[f"{m}_found"] for r in rows]) * keys
        out[f"{m}_found"] = float(found.sum() / keys.sum())
        hip = [r[f"{m}_hip_px"] for r in rows if f"{m}_hip_px" in r]
        out[f"{m}_hip_px_median"] = float(np.median(hip)) if hip else float("nan")
    return out


def by_source(rows: list[dict]) -> list[str]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["source"]].append(r)
    lines = ["| source | clips | frames | full found | lite found |", "|---|---|---|---|---|"]
    for src, rs in sorted(groups.items()):
        s = summarise(rs)
        lines.append(f"| {src} | {s['clips']} | {s['frames']} | {s['full_found']:.3f} | {s['lite_found']:.3f} |")
    return lines


def markdown(rows: list[dict], note: str) -> str:
    s = summarise(rows)
    splits = ", ".join(f"{k} {v}" for k, v in sorted(_count(rows, "split").items()))
    p10, p90 = s["render_s_p10_p90"]
    head = [
        f"clips ({splits})",
        "frames",
        "**frames/min** (whole pipeline)",
        "Cycles s/frame (p10-p90)",
        "MediaPipe s/frame (full + lite)",
        "setup s/clip",
        "full found",
        "lite found",
        "hip px (median, full / lite)",
        "box load (median)",
    ]
    row = [
        str(s["clips"]),
        str(s["frames"]),
        f"**{s['frames_per_min']:.1f}**",
        f"{s['render_s_per_frame']:.2f} ({p10:.2f}-{p90:.2f})",
        f"{s['detect_s_per_frame']:.2f}",
        f"{s['setup_s_per_clip']:.1f}",
        f"{s['full_found']:.3f}",
        f"{s['lite_found']:.3f}",
        f"{s['full_hip_px_median']:.1f} / {s['lite_hip_px_median']:.1f}",
        f"{s['load1_median']:.1f}",
    ]
    table = "\n".join("| " + " | ".join(r) + " |" for r in (head, ["---"] * len(head), row))
    return f"""## Rendered humans (`addon/render_humans.py`, summarised by `bench/render_rate.py`)

Conditions: {_speed_module().conditions()}, the render nice'd beside other work.
Settings: Cycles CPU, `--samples` per run (default 8), no adaptive sampling, OpenImageDenoise, 3 bounces; image
sizes 640×360, 360×640, 480×480, 640×480, 480×640 (sampled per clip); up to 24 key-frames per clip. {note}

{table}

Per source:

{chr(10).join(by_source(rows))}
"""


def _count(rows: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[r[key]] += 1
    return dict(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=REPO / "runs" / "rendered")
    ap.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    rows = read_progress(args.runs)
    if not rows:
        print(f"no progress.jsonl under {args.runs}", file=sys.stderr)
        return 1
    body = markdown(rows, args.note)
    print(body)
    if not args.no_write:
        _speed_module().update_benchmarks(args.out, "render_humans", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
