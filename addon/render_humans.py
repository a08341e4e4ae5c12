"""Render Anny bodies posed from our mocap and run the real MediaPipe on them: detector/joint pairs per clip.

    .venv/bin/python -m addon.render_humans --clips 40 --split val --out runs/rendered
    .venv/bin/python -m addon.render_humans --clips 400 --split train --out runs/rendered   # resumes
    .venv/bin/python -m addon.render_humans --clips 6 --split val --match squat --out runs/rendered_squat  # one class
    .venv/bin/python -m addon.render_humans --clips 10 --split val --fps 60 --out runs/rendered  # -> val_60fps/

Developer tool (needs a repo checkout and the training side; not shipped in the extension zip). Per clip
(in a fixed, seeded order over the split): plan (body shape, key-frame stride and window, looks, image
size), pose the window on Anny, pick a static camera, render the key-frames with Cycles CPU, run
MediaPipe full and lite (VIDEO mode, the key-frame times), write `<out>/<split>/<clip>.npz` atomically
(format: inference/training/pairs.py). Clips whose npz exists are skipped, so rerunning the same command
resumes. One progress line per clip on stdout; `<out>/<split>/progress.jsonl` keeps the same as JSON, and
`<out>/<split>/previews/` the first key-frame of the first clips as JPEG.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "addon"  # noqa: A001

from inference.training import humans, pairs  # noqa: E402
from inference.training import render_plan as rp  # noqa: E402
from inference.training.data import Clip, is_val, load_clips  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = Path(os.environ.get("UPLIFT_POSE_MODEL", REPO.parent / "shared" / "models"))


def sun_azimuth(cam_c_yup: np.ndarray, centre_yup: np.ndarray, relative_deg: float) -> float:
    """Absolute Blender sun azimuth (deg) for a sun `relative_deg` off the camera's side of the body."""
    d = humans.yup_to_zup(cam_c_yup - centre_yup)  # camera seen from the body, Blender axes
    return float(np.degrees(np.arctan2(d[1], d[0])) + 90.0 + relative_deg)


def render_clip(
    clip: Clip,
    out_dir: Path,
    *,
    samples: int = 8,
    denoise: bool = True,
    max_keys: int = 24,
    size: tuple[int, int] | None = None,
    seed: int = 0,
    models_dir: Path = DEFAULT_MODELS,
    preview: Path | None = None,
    threads: int = 0,
    fps: float = 30.0,
) -> dict[str, float]:
    """Everything for one clip (its joints sampled at `fps`) -> `out_dir/<clip>.npz`; returns the summary
    (pairs.summary + timings)."""
    from .render_scene import HumanScene  # noqa: PLC0415 - bpy loads here

    t0 = time.perf_counter()
    shot = humans.plan_shot(clip, seed=seed, max_keys=max_keys, size=size, fps=fps)
    plan, body, posed, key_rel, cam = shot.plan, shot.body, shot.posed, shot.key_rel, shot.camera
    joints_yup, head_top_yup = shot.joints_yup, shot.head_top_yup
    R, C, f = cam.R[0].astype(np.float64), cam.C[0].astype(np.float64), float(cam.f[0])
    centre = joints_yup[key_rel, 0].mean(axis=0)
    look = plan.look
    look.sun_azimuth_deg = sun_azimuth(C, centre, look.sun_azimuth_deg)
    mats = [(m, getattr(look, m)) for m in rp.MATERIALS]
    face_mat = rp.face_materials(body.face_bones(), look)
    t_setup = time.perf_counter() - t0

    scene = HumanScene(
        posed.vertices[key_rel[0]],
        posed.faces,
        face_mat,
        mats,
        look,
        plan.size,
        samples=samples,
        denoise=denoise,
        threads=threads,
    )
    scene.set_camera(R, C, f, plan.size)
    images, t1 = [], time.perf_counter()
    try:
        for k in key_rel:
            scene.set_pose(posed.vertices[k])
            images.append(scene.render())
    finally:
        scene.close()
    t_render = time.perf_counter() - t1
    if preview is not None:
        import cv2  # noqa: PLC0415

        preview.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(preview), cv2.cvtColor(images[0], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])

    t2 = time.perf_counter()
    times = plan.key_frames / fps
    det = {m: pairs.detect_frames(images, times, models_dir / f"pose_landmarker_{m}.task") for m in pairs.MODELS}
    t_detect = time.perf_counter() - t2

    to_cam = lambda x: (np.asarray(x) - C) @ R.T  # world (+Y up) -> camera
    K = pairs.intrinsics(f, plan.size)
    jc = to_cam(joints_yup[key_rel])
    render_info = {
        "engine": "CYCLES",
        "device": "CPU",
        "samples": samples,
        "denoise": denoise,
        "size": list(plan.size),
        "setup_s": t_setup,
        "render_s_per_frame": t_render / len(images),
        "detect_s_per_frame": t_detect / len(images),
        "focal_35mm": f * 36.0 / max(plan.size),
    }
    arrays: dict[str, object] = {
        "version": pairs.FORMAT_VERSION,
        "clip": clip.name,
        "source": clip.source,
        "split": "val" if is_val(clip.name.split("#")[0]) else "train",
        "fps": float(fps),
        "key_frames": plan.key_frames,
        "dense_frames": plan.dense_frames,
        "image_size": np.array(plan.size),
        "K": K,
        "cam_R": R,
        "cam_C": C,
        "joints_world": joints_yup[key_rel].astype(np.float32),
        "joints_cam": jc.astype(np.float32),
        "joints_2d": pairs.project(K, jc).astype(np.float32),
        "head_top_cam": to_cam(head_top_yup[key_rel]).astype(np.float32),
        "dense_joints_cam": to_cam(joints_yup).astype(np.float32),
        "mocap_world": clip.joints[plan.key_frames].astype(np.float32),
        "phenotype": np.array([plan.phenotype[k] for k in humans.PHENOTYPES], dtype=np.float32),
        "phenotype_names": np.array(humans.PHENOTYPES),
        "plan_json": pairs.dumps(plan.to_json()),
        "render_json": pairs.dumps(render_info),
    }
    for m, d in det.items():
        arrays.update({f"mp_{m}_image": d["image"], f"mp_{m}_world": d["world"], f"mp_{m}_found": d["found"]})
    pairs.write_npz_atomic(out_dir / pairs.clip_filename(clip.name), arrays)
    out = pairs.summary({k: np.asarray(v) for k, v in arrays.items()})
    out.update(
        render_s_per_frame=t_render / len(images),
        detect_s_per_frame=t_detect / len(images),
        setup_s=t_setup,
        total_s=time.perf_counter() - t0,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=10, help="stop when this many clips of the split are done")
    ap.add_argument("--split", choices=("train", "val"), default="train")
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "rendered")
    ap.add_argument("--mocap", type=Path, default=None, help="h36m17 folder (default: ../shared/...)")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--no-denoise", action="store_true")
    ap.add_argument("--max-keys", type=int, default=24, help="key-frames rendered per clip")
    ap.add_argument(
        "--size", type=int, nargs=2, default=None, metavar=("W", "H"), help="override the sampled image size"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--previews", type=int, default=50, help="save the first key-frame of this many clips")
    ap.add_argument("--threads", type=int, default=0, help="Cycles threads (0: all cores)")
    ap.add_argument("--match", default="", help="only clips whose name contains this (e.g. squat: one motion class)")
    ap.add_argument(
        "--fps", type=float, default=30.0, help="video rate of the clips (60: written to <split>_60fps, for evaluation)"
    )
    args = ap.parse_args(argv)

    out_dir = args.out / pairs.split_folder(args.split, args.fps)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = rp.clip_order(load_clips(args.mocap, fps=args.fps, split=args.split), args.seed)
    clips = [c for c in clips if len(c.joints) >= 2 and args.match.lower() in c.name.lower()]
    done = sum((out_dir / pairs.clip_filename(c.name)).exists() for c in clips)
    print(
        f"[render_humans] split={args.split} clips available={len(clips)} done={done} target={args.clips} "
        f"out={out_dir}",
        flush=True,
    )
    n_new = 0
    for c in clips:
        if done >= args.clips:
            break
        path = out_dir / pairs.clip_filename(c.name)
        if path.exists():
            continue
        preview = out_dir / "previews" / (path.stem + ".jpg") if done < args.previews else None
        try:
            s = render_clip(
                c,
                out_dir,
                samples=args.samples,
                denoise=not args.no_denoise,
                max_keys=args.max_keys,
                size=args.size,
                seed=args.seed,
                preview=preview,
                threads=args.threads,
                fps=args.fps,
            )
        except Exception:  # noqa: BLE001 - one bad clip must not stop a night's run
            print(f"[render_humans] FAILED {c.name}\n{traceback.format_exc()}", flush=True)
            continue
        done, n_new = done + 1, n_new + 1
        line = {
            "clip": c.name,
            "source": c.source,
            "split": args.split,
            **s,
            "time": time.time(),
            "load1": os.getloadavg()[0],
        }
        with open(out_dir / "progress.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        print(
            f"[render_humans] {done}/{args.clips} {c.name} ({c.source}) keys={int(s['keys'])} "
            f"render={s['render_s_per_frame']:.2f}s/frame full={s['full_found']:.2f} "
            f"lite={s['lite_found']:.2f} hip_px={s.get('full_hip_px', float('nan')):.1f} "
            f"total={s['total_s']:.0f}s",
            flush=True,
        )
    print(f"[render_humans] finished: {n_new} new clips, {done} done in {out_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
