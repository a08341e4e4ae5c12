"""Speed benchmark: decode-only vs the full capture pipeline at s_in = 1, 2, 5, 10, 20, per clip.

Every configuration runs in a fresh subprocess, so its peak RSS is its own. The pipeline is measured warm:
each subprocess first imports everything and runs one short capture (MediaPipe graph, lifter weights);
those one-time costs are reported in their own columns. Prints one table per clip, writes BENCHMARKS.md,
and ends with `speedup_s10=X decode_ratio_s20=Y` for the 1768x994 clip.

    .venv/bin/python bench/speed.py                    # all clips in ../shared/videos
    .venv/bin/python bench/speed.py --clips a.mp4 --strides 1,10 --no-write
    .venv/bin/python bench/speed.py --hands off,fingers --strides 10 --clips ../shared/videos/01_squats*.mp4
        # the cost of finger capture: its own section of BENCHMARKS.md (target: fingers <= 1.4 x off)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPLIFT_SHARED", REPO.parent / "shared"))
HEADLINE = "1768x994"
STAGES = ("decode", "pose2d", "select", "uplift")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ------------------------------------------------------------------------------------------------ workers


def worker_decode(clip: str, mode: str) -> dict:
    """What a naive tool pays: decode every frame and convert it to RGB (PyAV or OpenCV), plus our floor."""
    t = time.perf_counter()
    import numpy as np  # noqa: F401

    from inference.video import KeyFrameReader

    imports = time.perf_counter() - t
    t = time.perf_counter()
    if mode == "opencv_rgb":
        import cv2

        cap = cv2.VideoCapture(clip)
        n = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            n += 1
        cap.release()
    else:
        # pyav_rgb: every frame decoded and converted, no skipping; floor: decode only what key-frames need.
        stride, skip = (1, False) if mode == "pyav_rgb" else (10**9, True)
        with KeyFrameReader(clip, stride, skip_unused=skip) as r:
            for _ in r:
                pass
        n = len(r.timestamps)
    wall = time.perf_counter() - t
    return {"mode": mode, "frames": n, "wall": wall, "imports": imports, "rss": _peak_rss_mb()}


def worker_pipeline(clip: str, stride: int, weights: str | None, pose_model: str, hands: str = "wrists") -> dict:
    t = time.perf_counter()
    import inference
    from inference import capture
    from inference.lift import load_model
    from inference.video import probe

    imports = time.perf_counter() - t
    info = probe(clip)
    kw = {"pose_model": pose_model, "weights": weights, "hands": hands}
    # Warm-up: MediaPipe graph, lifter weights (cached per process), torch kernels. Long enough to find
    # somebody on a few key-frames.
    t = time.perf_counter()
    load_model(weights, "auto")
    warm_stop = min(info.frame_count, max(4 * stride + 1, 40))
    try:
        capture(clip, stride, frame_range=(0, warm_stop), **kw)
    except inference.NoPersonError:
        pass
    warmup = time.perf_counter() - t
    t = time.perf_counter()
    result = capture(clip, stride, **kw)
    wall = time.perf_counter() - t
    return {
        "stride": stride,
        "frames": int(len(result.timestamps)),
        "keyframes": int(len(result.keyframes)),
        "wall": wall,
        "timings": result.timings.as_dict(),
        "detected": int(result.detected.sum()),
        "imports": imports,
        "warmup": warmup,
        "duration": float(result.timestamps[-1] + 1.0 / result.fps),
        "rss": _peak_rss_mb(),
        "hands": hands,
        "hands_found": int(sum(int((r == r).sum()) for r in result.hands2d[result.keyframes][:, :, 0, 0].T)),
    }


def _run_worker(args: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("UPLIFT_POSE_MODEL", str(SHARED / "models"))
    env.setdefault("UPLIFT_HAND_MODEL", str(SHARED / "models"))
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, env=env, cwd=REPO
    )
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"worker {args} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


# ------------------------------------------------------------------------------------------------ tables


def clip_table(name: str, fps: float, decode: dict[str, dict], runs: list[dict]) -> tuple[str, dict]:
    """Markdown table: ms per video frame per stage, speed-up vs s_in=1, x real time, peak RSS."""
    T = decode["pyav_rgb"]["frames"]
    seconds = T / fps
    ms = lambda s: 1000.0 * s / T  # noqa: E731 - per video frame
    lines = [
        f"### {name} ({T} frames, {seconds:.2f} s of video)",
        "",
        (
            "| run | key-frames | decode | pose2d | select | uplift | other | **total ms/frame** | speed-up "
            "vs s_in=1 | × real time | peak RSS MB | imports s | warm-up s |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    labels = {
        "pyav_rgb": "decode-only: PyAV, every frame to RGB (naive)",
        "opencv_rgb": "decode-only: OpenCV read + BGR→RGB",
        "floor": "decode floor: PyAV, no RGB, non-ref frames skipped",
    }
    for mode, d in decode.items():
        lines.append(
            f"| {labels[mode]} | – | {ms(d['wall']):.2f} | – | – | – | – | **{ms(d['wall']):.2f}** | – | "
            f"{seconds / d['wall']:.1f} | {d['rss']:.0f} | {d['imports']:.2f} | – |"
        )
    base = next((r["wall"] for r in runs if r["stride"] == 1), None)
    for r in runs:
        tm = r["timings"]
        other = r["wall"] - sum(tm.get(k, 0.0) for k in STAGES)
        speed = f"{base / r['wall']:.2f}" if base else "–"
        lines.append(
            f"| s_in={r['stride']} | {r['keyframes']} ({r['detected']} with person) | "
            + " | ".join(f"{ms(tm.get(k, 0.0)):.2f}" for k in STAGES)
            + f" | {ms(other):.2f} | **{ms(r['wall']):.2f}** | {speed} | {seconds / r['wall']:.1f} | "
            f"{r['rss']:.0f} | {r['imports']:.2f} | {r['warmup']:.2f} |"
        )
    by = {r["stride"]: r["wall"] for r in runs}
    summary = {
        "speedup_s10": (by[1] / by[10]) if 1 in by and 10 in by else None,
        "decode_ratio_s20": (by[20] / decode["pyav_rgb"]["wall"]) if 20 in by else None,
    }
    return "\n".join(lines), summary


def conditions() -> str:
    load = os.getloadavg()
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{platform.platform()}, {os.cpu_count()} CPU(s) ({cpu}), Python {platform.python_version()}, "
        f"load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} when the run ended"
    )


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", nargs="*", help="video files (default: every .mp4 in ../shared/videos)")
    p.add_argument("--strides", default="1,2,5,10,20")
    p.add_argument("--weights", default=None, help="lifter weights (default: the shipped ones)")
    p.add_argument("--pose-model", default="full")
    p.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    p.add_argument("--no-write", action="store_true", help="print only, do not write BENCHMARKS.md")
    p.add_argument("--note", default="", help="free text on the conditions, written into BENCHMARKS.md")
    p.add_argument("--repeat", type=int, default=1, help="--hands: runs per row, the fastest is kept")
    p.add_argument("--hands", default="", help="e.g. off,fingers: the hands cost table instead of the speed table")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        kind, clip, *rest = args.worker
        if kind == "decode":
            res = worker_decode(clip, rest[0])
        else:
            res = worker_pipeline(clip, int(rest[0]), args.weights, args.pose_model, args.hands or "wrists")
        print("RESULT " + json.dumps(res), flush=True)
        return 0

    sys.path.insert(0, str(REPO))
    from inference.video import probe

    clips = [Path(c) for c in args.clips] if args.clips else sorted((SHARED / "videos").glob("*.mp4"))
    strides = [int(s) for s in args.strides.split(",")]
    extra = ["--weights", args.weights] if args.weights else []
    if args.hands:
        return hands_bench(clips, strides, args, extra)
    sections, headline = [], None
    t_all = time.perf_counter()
    for clip in clips:
        info = probe(clip)
        decode = {m: _run_worker(["decode", str(clip), m]) for m in ("pyav_rgb", "opencv_rgb", "floor")}
        runs = []
        for s in strides:
            runs.append(_run_worker(["pipeline", str(clip), str(s), "--pose-model", args.pose_model, *extra]))
            print(f"  {clip.name} s_in={s}: {runs[-1]['wall']:.2f} s", file=sys.stderr, flush=True)
        table, summary = clip_table(clip.name, info.fps, decode, runs)
        print(table + "\n", flush=True)
        sections.append(table)
        if HEADLINE in clip.name:
            headline = summary
    elapsed = time.perf_counter() - t_all
    last = "speedup_s10=n/a decode_ratio_s20=n/a"
    if headline and headline["speedup_s10"] is not None and headline["decode_ratio_s20"] is not None:
        last = f"speedup_s10={headline['speedup_s10']:.2f} decode_ratio_s20={headline['decode_ratio_s20']:.2f}"
    if not args.no_write:
        write_markdown(Path(args.out), sections, last, elapsed, args)
    print(last)
    return 0


def hands_bench(clips: list[Path], strides: list[int], args: argparse.Namespace, extra: list[str]) -> int:
    """Whole capture with each --hands mode, per clip and stride; ratio to the first mode (e.g. off)."""
    from inference.video import probe

    modes = [m.strip() for m in args.hands.split(",") if m.strip()]
    lines = [
        "| clip | s_in | hands | key-frames | hands found (of 2 x key-frames) | pose2d | hands | **total ms/frame** "
        "| × vs " + modes[0] + " |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    t_all = time.perf_counter()
    for clip in clips:
        frames = probe(clip).frame_count
        for s in strides:
            runs: dict[str, dict] = {}
            for _ in range(max(1, args.repeat)):  # modes alternate, so a load spike hits both alike
                for mode in modes:
                    cmd = ["pipeline", str(clip), str(s), "--pose-model", args.pose_model, "--hands", mode, *extra]
                    r = _run_worker(cmd)
                    if mode not in runs or r["wall"] < runs[mode]["wall"]:
                        runs[mode] = r
            base = runs[modes[0]]["wall"]
            for mode in modes:
                r = runs[mode]
                tm = r["timings"]

                def ms(v: float, n: int = frames) -> float:
                    return 1000.0 * v / n

                lines.append(
                    f"| {clip.name} | {s} | {mode} | {r['keyframes']} | {r['hands_found']} | {ms(tm['pose2d']):.2f} | "
                    f"{ms(tm.get('hands', 0.0)):.2f} | **{ms(r['wall']):.2f}** | {r['wall'] / base:.2f} |"
                )
                print(lines[-1], file=sys.stderr, flush=True)
    body = f"""## Hands (`bench/speed.py --hands {args.hands}`)

Run {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} ({time.perf_counter() - t_all:.0f} s).
Conditions: {conditions()}. MediaPipe pose model `{args.pose_model}`, hand model from $UPLIFT_HAND_MODEL.
{args.note}

Milliseconds per video frame of a warm `inference.capture()`, each run in a fresh process (as above); the
fastest of {args.repeat} run(s) per row, the modes alternating.
`hands` = MediaPipe HandLandmarker on crops around the pose's hands on the key-frames (counted apart from
`pose2d`). Target (issue 9): at s_in=10, fingers ≤ 1.4 × off.

{chr(10).join(lines)}
"""
    print(body)
    if not args.no_write:
        update_benchmarks(Path(args.out), "speed_hands", body)
    return 0


def update_benchmarks(path: Path, name: str, body: str, last: str | None = None) -> None:
    """Replace one named section of BENCHMARKS.md (other benches own the others); keep the headline last line."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = old.rstrip("\n").split("\n")
    if lines and lines[-1].startswith("speedup_s10="):
        last = last or lines[-1]
        old = "\n".join(lines[:-1]).rstrip("\n") + "\n"
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    block = f"{begin}\n{body.strip()}\n{end}\n\n"
    if begin in old and end in old:
        old = old[: old.index(begin)] + block + old[old.index(end) + len(end) :].lstrip("\n")
    else:
        old = old.rstrip("\n") + "\n\n" + block
    path.write_text(old.rstrip("\n") + "\n" + (f"\n{last}\n" if last else ""))


def write_markdown(path: Path, sections: list[str], last: str, elapsed: float, args: argparse.Namespace) -> None:
    weights = args.weights or "shipped (inference/weights/)"
    body = f"""## Speed (`bench/speed.py`)

Run {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} ({elapsed:.0f} s).
Conditions: {conditions()}. MediaPipe pose model `{args.pose_model}`, lifter weights {weights}.
{args.note}

How to read: times are **milliseconds per video frame** (every frame of the clip, not per key-frame), from
one warm `inference.capture()` call per stride, each in a fresh process (imports and warm-up, i.e. the first
short capture that loads the MediaPipe graph and the lifter, are reported separately and not counted).
`decode` is the time the pipeline *waited* for the next key-frame: the reader decodes ahead in a thread, so
decoding that overlaps MediaPipe does not show here. `other` = wall time of the call minus the named stages
(per-call setup such as creating the MediaPipe landmarker). Speed-up = total(s_in=1) / total. × real time =
video duration / processing time. Peak RSS = the whole subprocess (Python, torch, MediaPipe).
"Decode-only (naive)" decodes every frame and converts it to RGB, what a tool without key-frame sampling pays.

{chr(10).join(s + chr(10) for s in sections)}
Targets (1768×994 clip): speed-up at s_in=10 ≥ 6; end-to-end at s_in=20 ≤ 1.5 × decode-only (naive).
"""
    update_benchmarks(path, "speed", body, last)


if __name__ == "__main__":
    raise SystemExit(main())
