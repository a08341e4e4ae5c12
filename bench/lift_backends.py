"""Lifter speed per backend: ONNX Runtime vs torch, ms per video frame, and how far apart their outputs are.

Inputs: held-out mocap clips (val split, 10 s at 30 fps, sigma 3 px, 1920x1080 virtual camera), key-frames
every s_in-th frame, the shipped weights through the public `uplift()` (hop 10, flip TTA), device cpu.
Warm timings interleave the two backends (repeat r: torch then onnx) and report the median, so a background
load hits both alike. Cold = a fresh process: import of the package plus the first `uplift()` call (session /
model load); that process also reports whether torch ended up imported. Writes the "lift-backends" section of
BENCHMARKS.md.

    .venv/bin/python bench/lift_backends.py                  # 6 clips, s_in 1,2,5,10,20, 5 repeats
    .venv/bin/python bench/lift_backends.py --clips 2 --repeats 3 --no-write
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("torch", "onnx")
COLD = """
import json, sys, time
t = time.perf_counter()
import numpy as np
from inference import uplift
imp = time.perf_counter() - t
px = np.random.default_rng(0).uniform(300, 700, (300, 17, 2)).astype(np.float32)
px[np.arange(300) % 10 != 0] = np.nan
t = time.perf_counter()
uplift(px, (1920, 1080), 30.0, device="cpu", backend=sys.argv[1])
print("RESULT " + json.dumps({"imports": imp, "first": time.perf_counter() - t, "torch": "torch" in sys.modules}))
"""


def _speed_module():
    spec = importlib.util.spec_from_file_location("bench_speed", Path(__file__).with_name("speed.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cold(backend: str) -> dict:
    """Import + first call in a fresh process (what the first capture of a Blender session pays)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", COLD, backend], capture_output=True, text=True, env=env, cwd=REPO)
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"cold run of {backend} failed:\n{proc.stderr[-3000:]}")


def warm(seqs: list[dict], stride: int, repeats: int) -> dict:
    """Median ms per video frame for each backend, and the max |onnx - torch| over the clips (metres)."""
    from inference import uplift

    clips = []
    for s in seqs:
        px = s["px"].copy()
        px[np.arange(len(px)) % stride != 0] = np.nan
        clips.append(px)
    frames = sum(len(px) for px in clips)
    outs = {b: [uplift(px, (1920, 1080), 30.0, device="cpu", backend=b) for px in clips] for b in BACKENDS}
    times: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for _ in range(repeats):
        for b in BACKENDS:
            t = time.perf_counter()
            for px in clips:
                uplift(px, (1920, 1080), 30.0, device="cpu", backend=b)
            times[b].append(1000.0 * (time.perf_counter() - t) / frames)
    diff = max(float(np.abs(a - c).max()) for a, c in zip(outs["onnx"], outs["torch"]))
    return {"stride": stride, "frames": frames, "diff": diff, **{b: float(np.median(times[b])) for b in BACKENDS}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=6)
    p.add_argument("--strides", default="1,2,5,10,20")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--note", default="")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import onnxruntime
    import torch

    from inference.lift import DEFAULT_WEIGHTS, load_onnx
    from inference.training.evaluate import val_sequences

    seqs = val_sequences(None, 30.0, 300, 3.0, max_clips=args.clips)
    rows = []
    for s in (int(x) for x in args.strides.split(",")):
        r = warm(seqs, s, args.repeats)
        rows.append(
            f"| s_in={s} | {r['frames']} | {r['torch']:.3f} | {r['onnx']:.3f} | {r['torch'] / r['onnx']:.2f} | "
            f"{r['diff']:.1e} |"
        )
        print(rows[-1], flush=True)
    colds = {b: cold(b) for b in BACKENDS}
    cold_rows = [
        f"| {b} | {c['imports']:.2f} | {c['first']:.2f} | {'yes' if c['torch'] else 'no'} |" for b, c in colds.items()
    ]
    onnx_file = load_onnx(None, "cpu").path
    cond = _speed_module().conditions()
    body = f"""## Lifter backends: ONNX Runtime vs torch (`bench/lift_backends.py`)

Run {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}. Conditions: {cond}; onnxruntime {onnxruntime.__version__}
(CPU provider), torch {torch.__version__} ({torch.get_num_threads()} threads). {args.note}
Shipped weights (`{DEFAULT_WEIGHTS.name}` {DEFAULT_WEIGHTS.stat().st_size / 1e6:.2f} MB, `{onnx_file.name}`
{onnx_file.stat().st_size / 1e6:.2f} MB), `uplift()` with hop 10 and flip TTA on {len(seqs)} val clips of
≤ 10 s (30 fps, σ = 3 px, 1920×1080), device cpu. **ms per video frame** of the lifting step alone, warm,
median of {args.repeats} interleaved repeats; max diff = largest |ONNX − torch| of any joint coordinate, metres.

| key-frames | frames | torch ms/frame | ONNX ms/frame | torch / ONNX | max diff m |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Cold start in a fresh process (300 frames, s_in = 10): import of `inference` + the first `uplift()` call.

| backend | import s | first call s | torch imported |
|---|---|---|---|
{chr(10).join(cold_rows)}
"""
    print(body)
    if not args.no_write:
        _speed_module().update_benchmarks(Path(args.out), "lift-backends", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
