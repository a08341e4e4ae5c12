"""What *any* key-frame choice could gain with the shipped lifter, on the clips of bench/adaptive_stride.py.

Why: auto stride is judged against even spacing at the same number of MediaPipe calls. Two bounds say how
much room there is, independent of how auto chooses:
1. Floor: even spacing at strides 1 ... 30. No choice of key-frames can do better than having *all* of them
   (stride 1) by more than the lifter's own preference; if all frames are only x % better than a stride,
   no choice at that stride's cost can be 10 % better.
2. Oracle: the clip is cut into 1 s segments; knowing the ground truth, each segment's benefit of dense key-frames
   (error at stride S minus error at S/3) is measured, the most useful segments get stride S/3, the others
   2S, as many as fit into the calls of stride S. That is the best a rule that moves calls between seconds
   could hope for; it is compared with the same number of calls spread evenly.

    .venv/bin/python bench/adaptive_limits.py --split val --write
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adaptive_stride import FAST, REPO, conditions, lift_error, synth_clips, write_section  # noqa: E402

sys.path.insert(0, str(REPO))
from inference.keyframes import even_keys  # noqa: E402

FLOOR_STRIDES = (1, 2, 3, 5, 10, 15, 20, 30)
ORACLE_STRIDES = (10, 15, 20)
SEGMENT = 30  # frames (1 s at 30 fps)


def _frame_errors(px: np.ndarray, gt: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Per-frame MPJPE (mm) given 2D on `keys` only."""
    from inference.lift import uplift

    pts = np.full_like(px, np.nan)
    pts[keys] = px[keys]
    return np.linalg.norm(uplift(pts, (1920, 1080), 30.0) - gt, axis=-1).mean(axis=1) * 1000


def oracle_keys(px: np.ndarray, gt: np.ndarray, stride: int) -> np.ndarray:
    """Dense (stride/3) key-frames on the segments where they helped most (ground truth), 2 x stride on the
    rest, within the calls of an even `stride`."""
    T = len(px)
    sparse, dense = np.arange(0, T, stride), np.arange(0, T, max(stride // 3, 1))
    gain = _frame_errors(px, gt, sparse) - _frame_errors(px, gt, dense)
    n_seg = -(-T // SEGMENT)
    order = np.argsort([-gain[i * SEGMENT : (i + 1) * SEGMENT].sum() for i in range(n_seg)])
    best = np.unique([0, T - 1])
    for n_dense in range(n_seg + 1):
        chosen = set(order[:n_dense].tolist())
        keys = [k for k in range(T) if k % (2 * stride) == 0 and k // SEGMENT not in chosen]
        keys += [int(k) for k in dense if k // SEGMENT in chosen]
        keys = np.unique([0, T - 1, *keys])
        if len(keys) > len(sparse):
            break
        best = keys
    return best


def run(clips: list[dict]) -> str:
    groups = {"fast (kick+jump+dance)": FAST, "idle": ("idle",)}
    lines = ["Even spacing, MPJPE mm over all frames (frame-weighted):", ""]
    lines += ["| clips | n | " + " | ".join(f"stride {s}" for s in FLOOR_STRIDES) + " |"]
    lines += ["|---|---|" + "---|" * len(FLOOR_STRIDES)]
    for name, kinds in groups.items():
        cs = [c for c in clips if c["group"] in kinds]
        w = [len(c["px"]) for c in cs]
        errs = [
            np.average(
                [lift_error(c["px"], c["gt"], even_keys(len(c["px"]), -(-len(c["px"]) // s))) for c in cs], weights=w
            )
            for s in FLOOR_STRIDES
        ]
        lines.append(f"| {name} | {len(cs)} | " + " | ".join(f"{e:.1f}" for e in errs) + " |")
    lines += ["", "Segment oracle (fast clips; ground truth picks the 1 s segments that get dense key-frames):", ""]
    lines += ["| stride S | even S: calls / MPJPE | oracle: calls / MPJPE | even, oracle's calls | oracle gain |"]
    lines += ["|---|---|---|---|---|"]
    fast = [c for c in clips if c["group"] in FAST]
    w = [len(c["px"]) for c in fast]
    for s in ORACLE_STRIDES:
        rows = []
        for c in fast:
            T = len(c["px"])
            ok = oracle_keys(c["px"], c["gt"], s)
            rows.append(
                (
                    -(-T // s),
                    lift_error(c["px"], c["gt"], np.arange(0, T, s)),
                    len(ok),
                    lift_error(c["px"], c["gt"], ok),
                    lift_error(c["px"], c["gt"], even_keys(T, len(ok))),
                )
            )
        r = np.array(rows)
        ev, orc, same = (np.average(r[:, i], weights=w) for i in (1, 3, 4))
        lines.append(
            f"| {s} | {int(r[:, 0].sum())} / {ev:.1f} | {int(r[:, 2].sum())} / {orc:.1f} | {same:.1f} | "
            f"{100 * (1 - orc / same):+.1f} % |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="val", choices=("train", "val"))
    ap.add_argument("--per-group", type=int, default=12)
    ap.add_argument("--write", action="store_true", help="write the tables into BENCHMARKS.md")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    clips = synth_clips(a.split, a.per_group, 600, 3.0)
    md = run(clips)
    print(md)
    print(f"({time.perf_counter() - t0:.0f} s)")
    if a.write:
        write_section(f"adaptive-limits-{a.split}", f"{conditions()}; {len(clips)} {a.split} clips.\n\n{md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
