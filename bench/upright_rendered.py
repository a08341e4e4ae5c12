"""Upright on rendered people: the retargeter's up against the true camera, with real MediaPipe 2D.

The synthetic bench (bench/upright.py) feeds the lifter detector-*like* 2D; here the 2D is real MediaPipe on
rendered bodies whose camera is known exactly (the model issue's val pairs: addon.render_humans --split val).
Per clip: its key-frames every ~s_in frames, MediaPipe's 2D (full), the lifter's output for it (each weights
file given; world landmarks passed, read only by weights that see them), `retarget_motion` with that 2D, and
the angle between the up it finds and the camera's true up. The true joints ("exact 3D") measure the method
without the lifter. No camera is told to the code.

    .venv/bin/python bench/upright_rendered.py --pairs /work/data/rendered/val            # table, docs/retarget.md
    .venv/bin/python bench/upright_rendered.py --pairs DIR --weights runs/ftW.safetensors --no-write
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import upright  # noqa: E402
import upright_scenes as us  # noqa: E402

BEGIN, END = "<!-- upright-rendered:begin -->", "<!-- upright-rendered:end -->"
FPS = 30.0


def clip_inputs(path: Path, s_in: int) -> dict | None:
    """One pairs file -> raw 17-joint MediaPipe 2D on every m-th key-frame (NaN elsewhere; as capture() gives
    the retargeter), its canonical-torso form and world landmarks for the lifter, truth; None if too few keys."""
    from inference.pose2d.landmarks import mediapipe33_to_h36m17
    from inference.training.pairs import load_pairs, rendered_sequences

    z = load_pairs(path)
    seq = next(s for s in rendered_sequences(path.parent, "full") if s["name"] == path.stem)
    keys = seq["keys"][:: max(1, round(s_in / seq["stride"]))]
    found = z["mp_full_found"][np.searchsorted(seq["keys"], keys)]
    keys = keys[found]
    if len(keys) < 3:
        return None
    T = len(seq["gt"])
    raw = np.full((T, 17, 2), np.nan, np.float32)
    raw[keys] = mediapipe33_to_h36m17(z["mp_full_image"][np.searchsorted(seq["keys"], keys), :, :2])
    lift_px = np.full_like(seq["px"], np.nan)
    lift_px[keys] = seq["px"][keys]
    return {
        "name": path.stem,
        "raw2d": raw,
        "lift2d": lift_px,
        "world": seq["mp_world"],
        "size": seq["size"],
        "gt": seq["gt"],
        "up_cam": np.asarray(z["cam_R"], float)[:, 1],  # world +Y (up) in OpenCV camera coordinates
    }


def tilt(clip: dict, joints: np.ndarray) -> tuple[float, str]:
    from retarget.motion import retarget_motion

    m = retarget_motion(joints, fps=FPS, points2d=clip["raw2d"], image_size=clip["size"])
    return us.tilt_deg(m.floor.up_cam, clip["up_cam"]), m.floor.up_method


def run(pairs: Path, weights: list[str | None], s_in: int) -> dict[str, list[float]]:
    from inference.lift import uplift

    rows: dict[str, list[float]] = {}
    for path in sorted(pairs.glob("*.npz")):
        clip = clip_inputs(path, s_in)
        if clip is None:
            continue
        inputs = {"exact 3D": clip["gt"]}
        for w in weights:
            name = "shipped" if w is None else Path(w).stem
            inputs[name] = uplift(clip["lift2d"], clip["size"], FPS, weights=w, world=clip["world"])
        line = []
        for name, joints in inputs.items():
            err, method = tilt(clip, joints)
            rows.setdefault(name, []).append(err)
            line.append(f"{name} {err:5.1f} ({method})")
        print(f"{clip['name'][:40]:40s} " + "  ".join(line), file=sys.stderr, flush=True)
    return rows


def table(rows: dict[str, list[float]]) -> str:
    lines = ["| input | clips | median | 90th pct | > 5° |", "|---|---|---|---|---|"]
    for name, v in rows.items():
        a = np.asarray(v)
        lines.append(
            f"| {name} | {len(a)} | {np.median(a):.1f}° | {np.percentile(a, 90):.1f}° | {int((a > 5).sum())} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=Path, required=True, help="folder of val pairs (addon.render_humans output)")
    ap.add_argument("--weights", nargs="*", default=[], help="lifter weights to compare (the shipped ones first)")
    ap.add_argument("--stride", type=int, default=10, help="s_in: key-frames about this many frames apart")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    rows = run(args.pairs, [None, *args.weights], args.stride)
    text = table(rows)
    print(text)
    if not args.no_write:
        header = (
            f"*`bench/upright_rendered.py --stride {args.stride}`: tilt error of the retargeter's up on rendered val "
            "clips (real MediaPipe full 2D, true camera known).*"
        )
        upright.write_doc(text, header, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
