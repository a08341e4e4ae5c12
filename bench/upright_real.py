"""Upright on the shared real clips: a side-view contact sheet (a side view shows lean) before and after.

There is no calibrated truth for these clips, so the sheet is for the eye, and the table gives the camera
each version found and the lean of the retargeted body on its upright frames (thorax over the ankles:
people stand and walk within a few degrees of vertical, so a large lean means a wrong up).

    .venv/bin/python bench/upright_real.py                # docs/images/upright_side_view.png + docs section
    .venv/bin/python bench/upright_real.py --no-write
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import upright  # noqa: E402
from upright_scenes import SHARED  # noqa: E402

CLIPS = ("01_squats_tfjs_720x1280.mp4", "02_dance_tfjs_576x576.mp4", "04_sideview_walk_jump_sports2d_1768x994.mp4")
CACHE = REPO / "runs" / "upright_real"
IMAGE = REPO / "docs" / "images" / "upright_side_view.png"
BEGIN, END = "<!-- upright-real:begin -->", "<!-- upright-real:end -->"
BONES = ((0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9), (9, 10))
BONES += ((8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16))


def captured(clip: str, stride: int) -> dict[str, np.ndarray]:
    """joints3d, points2d, fps and image size of a real capture (cached by the lifter's weights: MediaPipe
    takes a while on a CPU, and a cache of other weights would show their lean)."""
    from inference.lift.weights import file_sha256, resolve_weights

    path = CACHE / f"{Path(clip).stem}_s{stride}_{file_sha256(resolve_weights())[:12]}.npz"
    if not path.is_file():
        from inference import capture

        r = capture(SHARED / "videos" / clip, stride=stride, pose_model=SHARED / "models" / "pose_landmarker_full.task")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            joints3d=r.joints3d,
            points2d=r.points2d,
            world3d=r.world3d,
            fps=r.fps,
            image_size=np.array(r.image_size),
        )
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def lean_deg(joints: np.ndarray) -> float:
    """Median angle from vertical (world Z) of thorax over the ankles on upright frames."""
    from retarget import coords

    ok = coords.upright_frames(joints)
    v = joints[ok, 8] - 0.5 * (joints[ok, 3] + joints[ok, 6])
    return float(np.median(np.degrees(np.arccos(v[:, 2] / np.linalg.norm(v, axis=1))))) if ok.any() else float("nan")


def retarget_both(cap: dict[str, np.ndarray], before_mod: object) -> dict[str, object]:
    import retarget.motion as after

    kw = dict(fps=float(cap["fps"]), points2d=cap["points2d"], image_size=tuple(int(v) for v in cap["image_size"]))
    return {
        name: mod.retarget_motion(cap["joints3d"], **kw) for name, mod in (("before", before_mod), ("after", after))
    }


def sheet(motions: dict[str, dict[str, object]], path: Path, frames: int = 6) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(motions), frames, figsize=(2.0 * frames, 2.6 * len(motions)), squeeze=False)
    for row, (clip, ms) in enumerate(motions.items()):
        T = len(ms["after"].joints)
        for col, t in enumerate(np.linspace(0, T - 1, frames).astype(int)):
            ax = axes[row, col]
            for name, colour in (("before", "0.65"), ("after", "tab:red")):
                j = ms[name].joints[t]
                base = 0.5 * (j[3] + j[6])
                for a, b in BONES:  # side view: depth (world Y) across, up (Z) vertical, centred on the feet
                    ax.plot([j[a, 1] - base[1], j[b, 1] - base[1]], [j[a, 2], j[b, 2]], color=colour, lw=1.6)
            ax.axvline(0.0, color="tab:blue", lw=0.6, ls="--")
            ax.axhline(0.0, color="k", lw=0.6)
            ax.set_xlim(-1.0, 1.0)
            ax.set_ylim(-0.05, 2.0)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(clip.split("_")[0] + " " + clip.split("_")[1], fontsize=8)
            ax.set_title(f"frame {t}", fontsize=7)
    fig.suptitle("side view (camera to the left): grey = before, red = after; dashed = vertical", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def table(motions: dict[str, dict[str, object]]) -> str:
    from retarget import gravity

    lines = [
        "| clip | before: camera | before: lean | after: camera | after: lean |",
        "|---|---|---|---|---|",
    ]
    for clip, ms in motions.items():
        b, a = ms["before"], ms["after"]
        pb, rb = gravity.pitch_roll(b.floor.up_cam)
        lines.append(
            f"| {clip} | pitch {pb:+.1f}, roll {rb:+.1f} ({b.floor.up_method}) | {lean_deg(b.joints):.1f}° | "
            f"{a.floor.describe()}, confidence "
            f"{a.floor.up_confidence:.2f}, fov {a.floor.fov_deg:.0f}° | {lean_deg(a.joints):.1f}° |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stride", type=int, default=5)
    ap.add_argument("--before", default=None, help="git revision of the 'before' retarget (default: merge-base main)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    rev = args.before or upright.default_before()
    before = upright.load_before(rev)
    motions = {clip: retarget_both(captured(clip, args.stride), before) for clip in CLIPS}
    text = table(motions)
    print(text)
    if not args.no_write:
        sheet(motions, IMAGE)
        short = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", rev], capture_output=True, text=True)
        header = (
            f"*`bench/upright_real.py`, stride {args.stride}, before = retarget at `{short.stdout.strip()}`; "
            f"lean = median tilt of thorax over ankles on upright frames.*\n\n"
            f"![side view](images/{IMAGE.name})"
        )
        upright.write_doc(text, header, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
