"""Systematic lean of each body cue of retarget/gravity.py, measured on TRAIN-split mocap where up is known.

Why: averaging frames removes a cue's scatter but not its bias (people stand leaning a little forward, the
centre of pressure is a guess). Each cue's per-frame direction (gravity.cue_vectors, the frames the retargeter
itself picks, true up as the current guess) is split into a lean forward and towards the performer's left
(lying: towards the head and across, posture.body_axes), in degrees. Reported: the mean of the per-clip means
(each clip with >= MIN_FRAMES frames of the cue counts once; this is what CUE_LEAN_DEG takes), the frame-pooled
mean, per source, and the RMS over clips of the clip-mean error: what is left for BIAS_DEG. "Sitting" has no
mocap: the train split's standing-idle clips (reactidle) with the legs posed on a chair, as in the bench.
Planted feet: ankle slower than STILL_MPS in the world (the 2D test at run time is alike).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/cue_bias.py            # with the correction applied
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/cue_bias.py --raw      # the raw lean (sets CUE_LEAN_DEG)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import upright_scenes as us  # noqa: E402

from inference.training.data import is_val, load_clips  # noqa: E402
from retarget import gravity, posture  # noqa: E402
from retarget.skeleton import FEET  # noqa: E402

UP = np.array([0.0, 0.0, 1.0])
FPS = 30.0
STILL_MPS = 0.2
GATE_DEG = 20.0  # frames further than this from up are dropped, as the final passes do
MIN_FRAMES = 30


def leans(world: np.ndarray, correct: bool) -> dict[str, np.ndarray]:
    """cue -> [N,2] (forward, left) lean in degrees of its kept frames in one clip (world Z up). Balance is
    split into upright and bent-over torsos, sitting into a clip on the floor or not (as cue_vectors splits
    their correction)."""
    rel = world - world[:, :1]
    vel = np.gradient(world[:, list(FEET)], axis=0) * FPS
    still = np.linalg.norm(vel[..., :2], axis=-1) < STILL_MPS
    frames, vecs, _ = gravity.cue_vectors(rel, FPS, UP, 10.0, still, correct=correct)
    out = {}
    for k, m in frames.items():
        v = vecs[k][m]
        keep = posture.angle_deg(v, UP) < GATE_DEG
        f, left = posture.body_axes(rel[m], UP, along_head=k == "lying")
        a = np.degrees(np.arctan2(np.sum(v * f, -1), v @ UP))
        b = np.degrees(np.arctan2(np.sum(v * left, -1), v @ UP))
        x = np.stack([a, b], axis=-1)
        if k == "balance":
            bent = posture.bent_over(rel[m], UP)
            out["balance"], out["bent over"] = x[keep & ~bent], x[keep & bent]
        elif k == "sitting":
            out["floor sitting" if posture.seated_on_floor(rel, UP, m) else "sitting (other)"] = x[keep]
        else:
            out[k] = x[keep]
    return out


def measure(correct: bool, max_clips: int | None) -> dict[str, list[tuple[str, np.ndarray]]]:
    """cue -> [(source, [N,2] leans)] per train clip."""
    res: dict[str, list[tuple[str, np.ndarray]]] = {}
    for clip in load_clips(split="train", fps=FPS, max_clips=max_clips):
        assert not is_val(clip.name.split("#")[0])
        world = us.z_up(clip.joints)
        per = leans(world, correct)
        if clip.source == "reactidle":  # a real standing torso on an imagined chair (as the bench's "sit")
            seated = leans(us.sit_pose(world), correct)
            per["sitting"] = seated.get("sitting (other)", np.zeros((0, 2)))
        for k, x in per.items():
            res.setdefault(k, []).append((clip.source, x))
    return res


def report(res: dict[str, list[tuple[str, np.ndarray]]]) -> None:
    print("lean in deg: forward (lying: towards the head) / left (lying: across)")
    for k, rows in res.items():
        big = [(s, x) for s, x in rows if len(x) >= MIN_FRAMES]
        if not big:
            print(f"{k:15s} no clip with {MIN_FRAMES} frames")
            continue
        means = np.array([x.mean(axis=0) for _, x in big])
        pooled = np.concatenate([x for _, x in big])
        rms = np.sqrt(np.mean(np.sum(means**2, axis=1)))
        print(
            f"{k:15s} clips {len(big):3d} frames {len(pooled):6d}  clip-mean fwd {means[:, 0].mean():+5.2f} "
            f"left {means[:, 1].mean():+5.2f} (clip sd {means[:, 0].std():4.2f} / {means[:, 1].std():4.2f})  "
            f"pooled fwd {pooled[:, 0].mean():+5.2f} left {pooled[:, 1].mean():+5.2f} "
            f"(frame sd {pooled[:, 0].std():4.2f} / {pooled[:, 1].std():4.2f})  clip-mean RMS {rms:4.2f}"
        )
        for src in sorted({s for s, _ in big}):
            m = np.array([x.mean(axis=0) for s, x in big if s == src])
            print(f"    {src:18s} clips {len(m):3d}  fwd {m[:, 0].mean():+5.2f} left {m[:, 1].mean():+5.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", action="store_true", help="without the CUE_LEAN_DEG correction")
    ap.add_argument("--max-clips", type=int, default=None)
    args = ap.parse_args(argv)
    report(measure(not args.raw, args.max_clips))
    return 0


if __name__ == "__main__":
    sys.exit(main())
