"""Memory benchmark: peak RSS against clip length, for the video reader and for a whole capture.

Long clips are made without re-encoding by looping the packets of a real shared clip (02, a dancer,
576x576 H.264, 4 s) with shifted timestamps, so a 1-hour file costs seconds to write and MediaPipe still
finds a person. Each measurement runs in a fresh subprocess; RSS is also sampled while streaming to show
it stays flat. Writes the "memory" section of BENCHMARKS.md.

    .venv/bin/python bench/memory.py                       # reader: 1, 10, 60 min; capture: 1, 10 min
    .venv/bin/python bench/memory.py --reader-minutes 1 --capture-minutes 1 --no-write
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPLIFT_SHARED", REPO.parent / "shared"))
SOURCE = SHARED / "videos" / "02_dance_tfjs_576x576.mp4"


def _speed_module():
    spec = importlib.util.spec_from_file_location("bench_speed", Path(__file__).with_name("speed.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def loop_clip(src: Path, dst: Path, minutes: float) -> Path:
    """Concatenate copies of src's packets (each copy starts with its own key-frame) into dst."""
    import av

    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        packets = [p for p in inp.demux(stream) if p.size]
        span = max(p.pts + p.duration for p in packets) - min(p.pts for p in packets)
        seconds = float(span * stream.time_base)
        with av.open(str(dst), "w") as out:
            o = out.add_stream_from_template(stream)
            for k in range(max(1, round(minutes * 60 / seconds))):
                for p in packets:
                    q = av.Packet(bytes(p))
                    q.pts, q.dts, q.duration = p.pts + k * span, p.dts + k * span, p.duration
                    q.time_base, q.is_keyframe, q.stream = p.time_base, p.is_keyframe, o
                    out.mux(q)
    return dst


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(kind: str, clip: str, stride: int, weights: str | None) -> dict:
    import resource

    samples: list[tuple[int, float]] = []
    t = time.perf_counter()
    if kind == "reader":
        from inference.video import KeyFrameReader

        with KeyFrameReader(clip, stride, prefetch=2) as r:
            n_every = max(1, r.info.frame_count // stride // 10)
            for i, k in enumerate(r):
                if i % n_every == 0:
                    samples.append((k.index, _rss_mb()))
        frames = len(r.timestamps)
    else:
        from inference import capture

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "pose2d" and (not samples or done - samples[-1][0] >= max(total // 10, 1)):
                samples.append((done, _rss_mb()))

        res = capture(clip, stride, weights=weights, progress=progress)
        frames = len(res.timestamps)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"kind": kind, "frames": frames, "wall": wall, "peak": peak, "samples": samples}


def _run(args: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("UPLIFT_POSE_MODEL", str(SHARED / "models"))
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, env=env, cwd=REPO
    )
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"worker {args} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reader-minutes", default="1,10,60")
    p.add_argument("--capture-minutes", default="1,10")
    p.add_argument("--stride", type=int, default=10)
    p.add_argument("--weights", default=None)
    p.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        kind, clip, stride = args.worker
        print("RESULT " + json.dumps(worker(kind, clip, int(stride), args.weights)), flush=True)
        return 0

    rows = []
    plan = [("reader", float(m)) for m in args.reader_minutes.split(",") if m] + [
        ("capture", float(m)) for m in args.capture_minutes.split(",") if m
    ]
    extra = ["--weights", args.weights] if args.weights else []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, minutes in plan:
            clip = Path(tmp) / f"loop_{minutes:g}min.mp4"
            if not clip.exists():
                loop_clip(SOURCE, clip, minutes)
            res = _run([kind, str(clip), str(args.stride), *extra])
            rss = [r for _, r in res["samples"]]
            first, last = (rss[0], rss[-1]) if rss else (float("nan"), float("nan"))
            rows.append(
                f"| {kind} | {minutes:g} min ({res['frames']} frames, {clip.stat().st_size / 2**20:.0f} MB) | "
                f"{res['wall']:.1f} | {res['peak']:.0f} | {first:.0f} → {last:.0f} |"
            )
            print(rows[-1], flush=True)
    body = f"""## Memory against clip length (`bench/memory.py`)

Run {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}. Clips: the 576×576 H.264 dance clip looped without
re-encoding; s_in={args.stride}; each row a fresh process. `reader` = `KeyFrameReader` alone (decode, every
key-frame to RGB); `capture` = the whole `inference.capture()` (MediaPipe full, lifter{" " + args.weights if args.weights else ""}).
RSS while streaming = resident memory at the first and the last of ~10 samples taken during the pass.

| what | clip | wall s | peak RSS MB | RSS while streaming MB |
|---|---|---|---|---|
{chr(10).join(rows)}
"""
    print(body)
    if not args.no_write:
        _speed_module().update_benchmarks(Path(args.out), "memory", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
