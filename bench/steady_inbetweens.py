"""Raw learned in-betweens vs interpolating the model's key-frames vs the shipped steady in-betweens.

Val split (held out of training), 10 clips x 10 s, one seeded virtual camera per clip at 1920x1080, the
`exact` (joint projections + 3 px) and `measured` (the measured landmark model) input modes of
`python -m inference evaluate`. Prints a markdown table: MPJPE mm / acceleration error mm/frame^2 /
motion range %, frame-weighted over the clips. The table in docs/model.md came from this script.

    .venv/bin/python bench/steady_inbetweens.py [--modes exact:30,measured:30,measured:60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference import uplift  # noqa: E402
from inference.training import metrics as M  # noqa: E402
from inference.training.data import DEFAULT_MOCAP  # noqa: E402
from inference.training.evaluate import bilinear, val_sequences  # noqa: E402


def rows(mode: str, fps: float, strides: tuple[int, ...]) -> list[str]:
    seqs = val_sequences(DEFAULT_MOCAP, fps, 300, 3.0, max_clips=10, mode=mode)
    out = []
    for s_in in strides:
        scores: dict[str, list[tuple[float, ...]]] = {}
        for s in seqs:
            px = s["px"].copy()
            keys = np.arange(0, len(px), s_in)
            px[np.setdiff1d(np.arange(len(px)), keys)] = np.nan
            raw = uplift(px, s["size"], fps, steady=False)
            for name, q in (("raw", raw), ("interp", bilinear(raw, keys)), ("steady", uplift(px, s["size"], fps))):
                g = s["gt"]
                scores.setdefault(name, []).append(
                    (len(g), M.mpjpe(q, g), M.acceleration_error(q, g), M.motion_range(q, g))
                )
        cells = []
        for name in ("raw", "interp", "steady"):
            v = np.array(scores[name])
            m = [np.average(v[:, i], weights=v[:, 0]) for i in (1, 2, 3)]
            cells.append(f"{m[0]:.1f} / {m[1]:.2f} / {m[2]:.1f}")
        out.append(f"| {mode}, {fps:g} | {s_in} | " + " | ".join(cells) + " |")
        print(out[-1], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="exact:30,measured:30,measured:60")
    ap.add_argument("--strides", default="2,5,10,20")
    args = ap.parse_args()
    strides = tuple(int(s) for s in args.strides.split(","))
    print("| mode, fps | s_in | raw network | interpolating its key-frames | steady (shipped) |")
    print("|---|---|---|---|---|")
    for item in args.modes.split(","):
        mode, fps = item.split(":")
        rows(mode, float(fps), strides)


if __name__ == "__main__":
    main()
