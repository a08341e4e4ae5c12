"""Batch throughput: N copies of a shared clip through `python -m addon.batch`, one run per runner.

Runners: 1 worker process, `--workers 2`, `--ray local` (default tasks in flight), `--ray local --workers 2`.
Each run is the command a user types, in a fresh output folder, timed from start to exit (start-up
included: imports, model load, Ray's own start). Per-clip seconds and each worker's peak RSS come from
OUT/manifest.json; the whole process tree's RSS (the batch, its workers, Ray's raylet/GCS) is sampled
from /proc every 0.2 s. Writes the "batch-scale" section of BENCHMARKS.md.

    .venv/bin/python bench/batch_scale.py                  # 8 copies of 02_dance (120 frames), stride 10
    .venv/bin/python bench/batch_scale.py --copies 2 --frames 0:30 --no-write
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPLIFT_SHARED", REPO.parent / "shared"))
SOURCE = SHARED / "videos" / "02_dance_tfjs_576x576.mp4"
RUNNERS = {
    "1 worker": ["--workers", "1"],
    "--workers 2": ["--workers", "2"],
    "--ray local": ["--ray", "local"],
    "--ray local --workers 2": ["--ray", "local", "--workers", "2"],
}


def _speed_module():
    spec = importlib.util.spec_from_file_location("bench_speed", Path(__file__).with_name("speed.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and all its descendants (shared pages count once per process)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(d))
            rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 2**20


def run_one(name: str, extra: list[str], clips: Path, work: Path, args: argparse.Namespace) -> dict:
    out = work / f"out-{name.strip('-').replace(' ', '_')}"
    cmd = [sys.executable, "-m", "addon.batch", str(clips), "-o", str(out), "--format", args.format]
    cmd += ["--stride", str(args.stride), *(["--frames", args.frames] if args.frames else []), *extra]
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(work / "blender_user"))
    env.setdefault("UPLIFT_POSE_MODEL", str(SHARED / "models"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}):\n{stdout}\n{stderr[-3000:]}")
    m = json.loads((out / "manifest.json").read_text())
    clips_done = [c for c in m["clips"] if c["status"] == "done"]
    secs = sorted(c["seconds"] for c in clips_done)
    workers = {c["worker_pid"] for c in clips_done}
    return {
        "runner": name,
        "clips": len(clips_done),
        "wall_s": wall,
        "clips_per_min": 60 * len(clips_done) / wall,
        "clip_s_median": secs[len(secs) // 2],
        "clip_s_first": max(secs),
        "worker_peak_mb": max(c["worker_peak_mb"] for c in clips_done),
        "workers": len(workers),
        "tree_peak_mb": peak[0],
    }


def table(rows: list[dict]) -> str:
    base = rows[0]["clips_per_min"]
    lines = [
        (
            "| runner | processes that captured | wall s (start to exit) | **clips / min** | vs 1 worker | "
            "s per clip (median / slowest) | steady clips / min | peak RSS per worker MB | peak RSS whole run MB |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['runner']} | {r['workers']} | {r['wall_s']:.1f} | **{r['clips_per_min']:.1f}** | "
            f"{r['clips_per_min'] / base:.2f}× | {r['clip_s_median']:.1f} / {r['clip_s_first']:.1f} | "
            f"{60 * r['workers'] / r['clip_s_median']:.0f} | "
            f"{r['worker_peak_mb']:.0f} | {r['tree_peak_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--stride", default="10")
    ap.add_argument("--frames", default="", help="START:STOP to cut each clip (default: whole clip)")
    ap.add_argument("--format", default="bvh")
    ap.add_argument("--runners", default=";".join(RUNNERS), help="';'-separated subset of: " + "; ".join(RUNNERS))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    args = ap.parse_args()
    speed = _speed_module()
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="uplift-batch-bench-"))
    try:
        clips = work / "clips"
        clips.mkdir()
        for i in range(args.copies):
            shutil.copyfile(SOURCE, clips / f"copy{i:02d}.mp4")
        rows = []
        for name in args.runners.split(";"):
            rows.append(run_one(name, RUNNERS[name], clips, work, args))
            print(rows[-1], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = f"""## Batch throughput (`bench/batch_scale.py`)

Run {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} ({time.perf_counter() - t0:.0f} s).
Conditions: {speed.conditions()}.
{args.copies} copies of `{SOURCE.name}` (576x576, {args.frames or "all 120"} frames), `--stride {args.stride}`,
`--format {args.format}`, MediaPipe `full`, the shipped lifter (ONNX Runtime). Plain `--ray local` keeps the
default number of tasks in flight (one per two cores, like the default `--workers`: 1 here);
`--ray local --workers 2` keeps two in flight, to compare with `--workers 2`.

{table(rows)}

How to read: clips / min = clips / wall time of the whole command, so it includes each worker's start-up
(bpy, MediaPipe graph, lifter: the slowest clip is each worker's first) and, for Ray, starting and stopping
its local cluster; with clips this short that start-up is most of the wall time. Steady clips / min =
processes that captured × 60 / median seconds per clip: the rate once every worker is warm, what a long
batch approaches. Peak RSS per worker = the largest `worker_peak_mb` in the manifest (a worker's own peak);
whole run = the batch's process tree sampled every 0.2 s (the batch, its workers and Ray's services; pages
shared between processes are counted in each). The machine has 2 cores: two workers share them, each
MediaPipe graph also runs threads of its own, so a second worker adds less than 2× here. The 10,000-clip
estimate built on these numbers is in docs/batch.md.
"""
    if not args.no_write:
        speed.update_benchmarks(Path(args.out), "batch-scale", body)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
