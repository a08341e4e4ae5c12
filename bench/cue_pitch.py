"""How each up cue's pitch follows the camera's when it reads the LIFTER's output (TRAIN-split captures).

Why: on the upright bench the retargeter's pitch error on lifted joints grows with the camera's pitch (the
lifter turns a pitched body part of the way back towards the image's up; docs/retarget.md), while on the true
joints it does not. A cue whose error is `slope x pitch + offset` can be un-shrunk about p0 = -offset / slope.
Captures: inference/training/up_data.sample (train clips, random bone lengths, pitch -40..+20, roll +-15,
detector-like 2D, the shipped lifter). Per cue (its frames under the TRUE up, the leans taken out, as the final
pass sees them): robust clip direction, pitch error against the camera's, least-squares slope and offset, and
the residual after un-shrinking (p0 + (p - p0) / (1 + slope)). "fused" is gravity.estimate_up with the 2D (no root).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/cue_pitch.py --captures 300
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inference.training.data import is_val  # noqa: E402
from inference.training.up_data import capture_clips, sample  # noqa: E402
from retarget import gravity  # noqa: E402

FPS = 30.0
MIN_FRAMES = 20


def pitch_of(v: np.ndarray) -> float:
    return gravity.pitch_roll(v)[0]  # pitch_roll normalises


def measure(n: int, seed: int) -> dict[str, list[tuple[float, float]]]:
    """cue -> [(true pitch, cue pitch)] in degrees, one per capture where the cue speaks."""
    rng = np.random.default_rng(seed)
    clips, p = capture_clips(FPS)
    assert not any(is_val(c.name.split("#")[0]) for c in clips)
    out: dict[str, list[tuple[float, float]]] = {}
    for k in range(n):
        s = sample(clips[int(rng.choice(len(clips), p=p))].joints, rng, FPS, (3.0, 8.0))
        rel = s["lifted"].astype(np.float64) - s["lifted"][:, :1]
        up = s["up"].astype(np.float64) / np.linalg.norm(s["up"])
        p_true = pitch_of(up)
        frames, vecs, _ = gravity.cue_vectors(rel, FPS, up, 10.0)
        for name, m in frames.items():
            if m.sum() >= MIN_FRAMES:
                cue = gravity._direction_cue(name, vecs[name][m], FPS, up, 20.0)
                if cue is not None:
                    out.setdefault(name, []).append((p_true, pitch_of(cue.up)))
        lc = gravity.learned_cue(rel, FPS)
        if lc is not None:
            out.setdefault("learned", []).append((p_true, pitch_of(lc.up)))
        est = gravity.estimate_up(rel, FPS, points2d=s["px"])
        out.setdefault("fused", []).append((p_true, est.pitch_deg))
        if k % 50 == 0:
            print(f"{k}/{n}", file=sys.stderr, flush=True)
    return out


def report(res: dict[str, list[tuple[float, float]]]) -> None:
    print("| cue | captures | pitch error median abs | slope | offset | un-shrunk: median abs |")
    print("|---|---|---|---|---|---|")
    for name, rows in res.items():
        t, e = np.array(rows).T
        err = e - t
        slope, off = np.linalg.lstsq(np.c_[t, np.ones_like(t)], err, rcond=None)[0]
        p0 = -off / slope
        fixed = p0 + (e - p0) / (1 + slope) - t
        print(
            f"| {name} | {len(t)} | {np.median(np.abs(err)):.2f} | {slope:+.3f} | {off:+.2f} | "
            f"{np.median(np.abs(fixed)):.2f} |"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--captures", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    report(measure(args.captures, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
