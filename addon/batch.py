"""Headless batch capture: many clips -> one .blend / .bvh / .fbx each.

    python -m addon.batch CLIPS_OR_FOLDERS... -o OUTDIR [--format blend|bvh|fbx] [--stride N] [...]
    blender -b -P addon/batch.py -- CLIPS_OR_FOLDERS... -o OUTDIR [...]

Each clip starts from an empty scene (or from --rig FILE.blend, to capture onto that file's armature),
so one clip cannot leak into the next. A bad clip is reported and skipped; existing outputs are never
overwritten unless --overwrite. Prints a summary table; exits 1 if any clip failed, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script (`blender -b -P .../batch.py`): import our package by its folder
    _here = Path(__file__).resolve().parent
    sys.path.insert(0, str(_here.parent))
    __package__ = _here.name  # noqa: A001 - makes the relative imports below work

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ogv", ".wmv"}
FORMATS = ("blend", "bvh", "fbx")


@dataclass
class Outcome:
    clip: Path
    status: str  # "ok" | "failed" | "skipped"
    output: Path | None = None
    frames: int = 0
    keyframes: int = 0
    seconds: float = 0.0
    message: str = ""
    camera: str = ""  # the camera's pitch and roll and how they were found


def find_clips(inputs: list[str], recursive: bool = False) -> tuple[list[Path], list[Outcome]]:
    """Video files from files and folders, in a stable order; inputs that do not exist become failures."""
    clips: list[Path] = []
    bad: list[Outcome] = []
    for item in inputs:
        p = Path(item).expanduser()
        if p.is_dir():
            pattern = p.rglob("*") if recursive else p.iterdir()
            found = sorted(f for f in pattern if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
            if not found:
                bad.append(Outcome(p, "failed", message="no video files in this folder"))
            clips.extend(found)
        elif p.is_file():
            clips.append(p)
        else:
            bad.append(Outcome(p, "failed", message="not found"))
    seen: set[Path] = set()
    unique = [c for c in clips if not (c.resolve() in seen or seen.add(c.resolve()))]  # type: ignore[func-returns-value]
    return unique, bad


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m addon.batch", description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+", metavar="CLIPS_OR_FOLDERS")
    ap.add_argument("-o", "--output-dir", required=True, type=Path)
    ap.add_argument("--format", choices=FORMATS, default="blend")
    ap.add_argument("--stride", type=int, default=10, help="2D pose on every N-th frame (default 10)")
    ap.add_argument(
        "--pose-model", default="full", help="lite, full, or the path of a MediaPipe .task bundle (default full)"
    )
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    ap.add_argument("--person", default="largest", help="largest, central, or a size rank (0 = largest)")
    ap.add_argument(
        "--frame-range", nargs=2, type=int, metavar=("START", "END"), help="video frames to capture, END inclusive"
    )
    ap.add_argument("--smoothing", type=float, default=0.5)
    ap.add_argument("--no-root-motion", action="store_true")
    ap.add_argument("--no-foot-locking", action="store_true")
    ap.add_argument("--camera-pitch", type=float, metavar="DEG", help="camera pitch in degrees (- looks down)")
    ap.add_argument("--camera-roll", type=float, metavar="DEG", help="camera roll in degrees (+ counter-clockwise)")
    ap.add_argument("--assume-level", action="store_true", help="trust a level camera; do not measure its tilt")
    ap.add_argument("--hands", choices=("off", "wrists", "fingers"), default="wrists", help="fingers: also key fingers")
    ap.add_argument("--rig", type=Path, help=".blend file holding the armature to animate (default: new armature)")
    ap.add_argument("--rig-object", default="", help="armature object name in --rig (default: the only armature)")
    ap.add_argument("--recursive", action="store_true", help="also look for clips in sub-folders")
    ap.add_argument("--overwrite", action="store_true", help="replace existing output files")
    args = ap.parse_args(argv)
    if args.stride < 1:
        ap.error("--stride must be 1 or more")
    for name in ("camera_pitch", "camera_roll"):
        value = getattr(args, name)
        if value is not None and not -89.0 <= value <= 89.0:
            ap.error(f"--{name.replace('_', '-')} must be between -89 and 89 degrees")
    if args.rig is not None and not args.rig.is_file():
        ap.error(f"--rig file not found: {args.rig}")
    return args


def _person(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def _new_scene(bpy: Any, args: argparse.Namespace) -> str:
    """A clean scene for each clip; returns the target armature's name ('' = create one)."""
    if args.rig is None:
        bpy.ops.wm.read_homefile(use_empty=True)
        return ""
    bpy.ops.wm.open_mainfile(filepath=str(args.rig), load_ui=False)
    arms = [o for o in bpy.context.scene.objects if o.type == "ARMATURE"]
    if args.rig_object:
        if not any(o.name == args.rig_object for o in arms):
            raise RuntimeError(f"no armature named '{args.rig_object}' in {args.rig}")
        return args.rig_object
    if len(arms) != 1:
        raise RuntimeError(f"{args.rig} has {len(arms)} armatures; choose one with --rig-object")
    return arms[0].name


def _export(bpy: Any, fmt: str, out: Path, armature: Any, action: Any) -> None:
    """Write the result; the temp name + rename keeps a half-written file from looking like a result."""
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj == armature)
    bpy.context.view_layer.objects.active = armature
    start, end = (int(round(v)) for v in action.frame_range)
    if fmt == "blend":
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp), copy=True, compress=True)
    elif fmt == "bvh":
        _enable("io_anim_bvh")
        bpy.ops.export_anim.bvh(
            filepath=str(tmp),
            frame_start=start,
            frame_end=end,
            global_scale=1.0,
            rotate_mode="NATIVE",
            root_transform_only=False,
        )
    else:
        _enable("io_scene_fbx")
        bpy.ops.export_scene.fbx(
            filepath=str(tmp),
            use_selection=True,
            object_types={"ARMATURE"},
            bake_anim=True,
            bake_anim_use_all_actions=False,
            add_leaf_bones=False,
            bake_anim_use_nla_strips=False,
        )
    if not tmp.is_file():
        raise RuntimeError(f"the {fmt} exporter wrote nothing")
    if out.exists() and not _OVERWRITE[0]:  # appeared while we worked: never clobber
        tmp.unlink()
        raise RuntimeError(f"{out} appeared during the capture; not overwritten")
    os.replace(tmp, out)


_OVERWRITE = [False]


def _enable(module: str) -> None:
    import addon_utils

    if not addon_utils.check(module)[1]:
        addon_utils.enable(module, default_set=False)


def capture_one(bpy: Any, clip: Path, out: Path, args: argparse.Namespace) -> Outcome:
    from . import apply, prefs
    from . import job as job_mod
    from ._pkgs import bpy_keys

    t0 = time.perf_counter()
    target = _new_scene(bpy, args)
    pose_model = prefs.pose_model_arg(args.pose_model)  # the add-on's models folder, like the operator
    frame_range = None
    if args.frame_range:
        frame_range = (args.frame_range[0], args.frame_range[1] + 1)
    options = job_mod.CaptureOptions(
        video=str(clip),
        stride=args.stride,
        pose_model=pose_model,
        person=_person(args.person),
        frame_range=frame_range,
        device=args.device,
        target=target,
        smoothing=args.smoothing,
        root_motion=not args.no_root_motion,
        foot_locking=not args.no_foot_locking,
        assume_level=args.assume_level,
        camera_pitch=args.camera_pitch,
        camera_roll=args.camera_roll,
        hands=args.hands.upper(),
    )
    shown = {"stage": "", "at": 0.0}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != shown["stage"] or done == total or now - shown["at"] > 2.0:
            print(f"  {stage} {done}/{total}", file=sys.stderr, flush=True)
            shown.update(stage=stage, at=now)

    capture_job = job_mod.CaptureJob(options, on_progress=progress)
    result = capture_job.run()
    # Each output is its own file: run its scene at the video's rate so every video frame is one key.
    bpy_keys.set_scene_timing(bpy.context.scene, result.fps, 1, len(result.joints3d))
    applied = apply.apply_capture(bpy.context, result, options)
    _export(bpy, args.format, out, applied.armature, applied.action)
    warnings = capture_job.warnings + list(getattr(result, "warnings", [])) + applied.warnings
    print(f"  {applied.camera}", file=sys.stderr, flush=True)
    return Outcome(
        clip,
        "ok",
        out,
        frames=len(result.joints3d),
        keyframes=len(result.keyframes),
        seconds=time.perf_counter() - t0,
        message="; ".join(warnings),
        camera=applied.camera,
    )


def summary(outcomes: list[Outcome]) -> str:
    rows = [("clip", "status", "frames", "keys", "time", "output / message")]
    for o in outcomes:
        detail = str(o.output) if o.status == "ok" else o.message
        if o.camera:
            detail += f"  ({o.camera})"
        if o.status == "ok" and o.message:
            detail += f"  (warning: {o.message})"
        rows.append(
            (
                o.clip.name,
                o.status,
                str(o.frames or ""),
                str(o.keyframes or ""),
                f"{o.seconds:.1f}s" if o.seconds else "",
                detail,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in rows]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "failed", "skipped")}
    lines.append(f"{counts['ok']} captured, {counts['failed']} failed, {counts['skipped']} skipped")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    args = parse_args(argv)
    _OVERWRITE[0] = bool(args.overwrite)
    import bpy

    _ensure_registered(bpy)
    from ._pkgs import inference

    clips, outcomes = find_clips(args.inputs, args.recursive)
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"cannot create the output folder {args.output_dir}: {exc}", file=sys.stderr)
        return 2
    for i, clip in enumerate(clips, 1):
        out = args.output_dir / f"{clip.stem}.{args.format}"
        if out.exists() and not args.overwrite:
            outcomes.append(Outcome(clip, "skipped", out, message=f"{out} exists (use --overwrite)"))
            continue
        print(f"[{i}/{len(clips)}] {clip}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            outcomes.append(capture_one(bpy, clip, out, args))
        except inference.UpliftError as exc:
            outcomes.append(Outcome(clip, "failed", seconds=time.perf_counter() - t0, message=str(exc)))
        except Exception as exc:  # noqa: BLE001 - one broken clip must not stop the batch
            import traceback

            traceback.print_exc()
            outcomes.append(
                Outcome(clip, "failed", seconds=time.perf_counter() - t0, message=f"{type(exc).__name__}: {exc}")
            )
    print(summary(outcomes))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _ensure_registered(bpy: Any) -> None:
    """Register the add-on when running from a checkout (an installed, enabled extension already is)."""
    if not hasattr(bpy.types, "UPLIFT_OT_capture_video"):
        from . import register

        register()


def _exit(code: int) -> None:
    """Leave with `code`. Blender 4.5 as a Python module (pip's bpy) can hang in its own teardown at interpreter
    exit after torch and MediaPipe ran; once the summary is printed nothing is left to clean up, so the module
    leaves at once. A Blender binary (`blender -b -P`) exits the normal way."""
    sys.stdout.flush()
    sys.stderr.flush()
    import bpy

    if not bpy.app.binary_path:
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main())
