"""Contact sheet for the README: video frames beside the posed rigs read back from Blender's evaluated pose.

    python -m addon.preview VIDEO -o docs/images/contact_sheet.png [--stride 10] [--frames 6]

Developer tool (needs matplotlib; not shipped in the extension zip). It runs the same capture and write
step as the operator, onto a new armature and onto a generated Rigify rig, then for a few frames draws:
row 1 the video frame with MediaPipe's 2D key-points where the frame was a key-frame; rows 2-3 the bones
of each rig (evaluated pose, world space) seen from the front (Blender -Y, the video's viewpoint), with
the floor at Z = 0. Armatures do not render, so the bones are projected and drawn with matplotlib.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "addon"  # noqa: A001


def _bones(obj: Any, prefix: str = "") -> np.ndarray:
    """[N, 2, 3] world head/tail of the (deforming) bones of the evaluated pose."""
    mw = obj.matrix_world
    out = [
        ((mw @ pb.head)[:], (mw @ pb.tail)[:])
        for pb in obj.pose.bones
        if pb.name.startswith(prefix) and (not prefix or obj.data.bones[pb.name].use_deform)
    ]
    return np.array(out, dtype=np.float64)


def _video_frame(path: str, index: int) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(path)
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise RuntimeError(f"cannot read frame {index} of {path}")
    return frame[..., ::-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m addon.preview", description=__doc__.split("\n\n")[0])
    ap.add_argument("video")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--stride", type=int, default=10)
    ap.add_argument("--frames", type=int, default=6)
    args = ap.parse_args(argv)

    import addon_utils
    import bpy
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from importlib import import_module

    pkg = import_module(__package__)
    apply, job = import_module(".apply", __package__), import_module(".job", __package__)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("rigify", default_set=True)
    pkg.register()

    capture_job = job.CaptureJob(job.CaptureOptions(video=str(Path(args.video).resolve()), stride=args.stride))
    result = capture_job.run()
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = round(result.fps), round(result.fps) / result.fps
    opts = capture_job.options
    new = apply.apply_capture(bpy.context, result, opts).armature
    bpy.ops.object.armature_human_metarig_add()
    meta = bpy.context.view_layer.objects.active
    bpy.ops.pose.rigify_generate()
    rig = bpy.context.view_layer.objects.active
    bpy.data.objects.remove(meta)
    rig.location.x = 0.0
    opts.target = rig.name
    apply.apply_capture(bpy.context, result, opts)

    T = len(result.joints3d)
    picks = np.linspace(0, T - 1, args.frames).round().astype(int)
    keys = np.asarray(result.keyframes, dtype=int)
    picks[::2] = [keys[np.abs(keys - p).argmin()] for p in picks[::2]]  # alternate key-frames and in-betweens
    keyset = {int(k) for k in keys}
    fig, axes = plt.subplots(
        3, len(picks), figsize=(2.6 * len(picks), 8.4), squeeze=False, gridspec_kw={"height_ratios": [1.1, 1, 1]}
    )
    poses = []
    for t in picks:
        scene.frame_set(scene.frame_start + int(t))
        poses.append((_bones(new), _bones(rig, "DEF-")))
    limits = []
    for r in range(2):  # one scale per rig, shared by its frames
        pts = np.concatenate([p[r].reshape(-1, 3) for p in poses])
        limits.append(((pts[:, 0].min() - 0.2, pts[:, 0].max() + 0.2), (-0.1, pts[:, 2].max() + 0.1)))
    for c, t in enumerate(picks):
        ax = axes[0, c]
        ax.imshow(_video_frame(result.source, int(result.frame_start + t)))
        if t in keyset:
            p = result.points2d[t]
            ax.scatter(p[:, 0], p[:, 1], s=6, c="#00e0ff")
            ax.set_title(f"frame {t} (key-frame)", fontsize=8)
        else:
            ax.set_title(f"frame {t} (model fills in)", fontsize=8)
        for r, (bones, label) in enumerate(zip(poses[c], ("new armature", "Rigify (DEF bones)")), start=1):
            ax = axes[r, c]
            for head, tail in bones:
                ax.plot([head[0], tail[0]], [head[2], tail[2]], "-", color="#d04010" if r == 1 else "#2050c0", lw=1.6)
            ax.axhline(0.0, color="0.6", lw=0.8)
            ax.set_xlim(*limits[r - 1][0])
            ax.set_ylim(*limits[r - 1][1])
            ax.set_aspect("equal")
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
        for ax in axes[:, c]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(
        f"{Path(result.source).name}: stride {args.stride} "
        f"({len(result.keyframes)} of {T} frames through MediaPipe); rigs read back from Blender",
        fontsize=9,
    )
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
