"""Headless batch capture: many clips -> one .blend / .bvh / .fbx / .glb each, on all cores or on Ray.

    python -m addon.batch CLIPS_OR_FOLDERS... -o OUTDIR [--format blend|bvh|fbx|glb] [--stride N] [--workers N]
    python -m addon.batch CLIPS_OR_FOLDERS... -o OUTDIR --ray local|auto|ADDRESS [...]
    blender -b -P addon/batch.py -- CLIPS_OR_FOLDERS... -o OUTDIR [...]        (one clip at a time)

Each clip starts from an empty scene (or from --rig FILE.blend, to capture onto that file's armature),
so one clip cannot leak into the next. Outputs are written under a temporary name and renamed when
complete; a re-run skips clips whose output exists (unless --overwrite), so running the same command
again resumes a stopped or killed batch. OUTDIR/manifest.json lists every clip. A bad clip is reported
and the others go on. Exit codes: 0 all done or skipped, 1 a clip failed, 2 bad arguments or output
folder, 130 stopped (Ctrl+C / SIGTERM; the manifest is written, no partial files are left).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script (`blender -b -P .../batch.py`): import our package by its folder
    _here = Path(__file__).resolve().parent
    sys.path.insert(0, str(_here.parent))
    __package__ = _here.name  # noqa: A001 - makes the relative imports below work

from . import batch_clip, batch_pool  # noqa: E402
from ._pkgs import cli_args  # noqa: E402
from .batch_manifest import NOT_FINISHED, Manifest, summary  # noqa: E402

FORMATS = batch_clip.FORMATS


def find_clips(inputs: list[str], recursive: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Video files from files and folders, in a stable order; inputs that do not exist become failures."""
    clips: list[Path] = []
    bad: list[tuple[Path, str]] = []
    for item in inputs:
        p = Path(item).expanduser()
        if p.is_dir():
            pattern = p.rglob("*") if recursive else p.iterdir()
            found = sorted(f for f in pattern if f.is_file() and cli_args.is_video(f))
            if not found:
                bad.append((p, "no video files in this folder"))
            clips.extend(found)
        elif p.is_file():
            clips.append(p)
        else:
            bad.append((p, "not found"))
    seen: set[Path] = set()
    unique = [c for c in clips if not (c.resolve() in seen or seen.add(c.resolve()))]  # type: ignore[func-returns-value]
    return unique, bad


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m addon.batch", description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+", metavar="CLIPS_OR_FOLDERS")
    ap.add_argument("-o", "--output-dir", required=True, type=Path, help="folder for the outputs and manifest.json")
    ap.add_argument("--format", choices=FORMATS, default="blend")
    cli_args.add_capture_options(ap)
    ap.add_argument("--frame-range", nargs=2, type=int, help=argparse.SUPPRESS)  # old form: START END inclusive
    ap.add_argument("--smoothing", type=float, default=0.5)
    ap.add_argument("--no-root-motion", action="store_true")
    ap.add_argument("--no-foot-locking", action="store_true")
    ap.add_argument("--camera-pitch", type=float, metavar="DEG", help="camera pitch in degrees (- looks down)")
    ap.add_argument("--camera-roll", type=float, metavar="DEG", help="camera roll in degrees (+ counter-clockwise)")
    ap.add_argument("--assume-level", action="store_true", help="trust a level camera; do not measure its tilt")
    ap.add_argument("--rig", type=Path, help=".blend file holding the armature to animate (default: new armature)")
    ap.add_argument("--rig-object", default="", help="armature object name in --rig (default: the only armature)")
    ap.add_argument("--recursive", action="store_true", help="also look for clips in sub-folders")
    ap.add_argument(
        "-j",
        "--workers",
        type=cli_args.count,
        help="clips captured at once (default: one per two cores, as MediaPipe keeps about two busy; "
        "with --ray: tasks in flight)",
    )
    ap.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run one Ray task per clip: local (a private cluster on this machine), auto (the cluster this "
        "machine joined) or a cluster address; needs the optional ray package",
    )
    ap.add_argument(
        "--gpus-per-task",
        type=float,
        metavar="F",
        help="with --ray: share of a GPU each task asks for (default 1/16 where the cluster has GPUs, else 0; "
        "0 also lets tasks run on CPU-only nodes)",
    )
    return ap


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.frame_range is not None:  # the old spelling, kept working
        if args.frames is not None:
            ap.error("give --frames START:STOP only")
        start, end = args.frame_range
        args.frames = cli_args.frames(f"{start}:{end + 1}")
    for name in ("camera_pitch", "camera_roll"):
        value = getattr(args, name)
        if value is not None and not -89.0 <= value <= 89.0:
            ap.error(f"--{name.replace('_', '-')} must be between -89 and 89 degrees")
    if args.gpus_per_task is not None and not (args.ray and 0 <= args.gpus_per_task <= 1):
        ap.error("--gpus-per-task goes with --ray and is between 0 and 1")
    if args.rig is not None and not args.rig.is_file():
        ap.error(f"--rig file not found: {args.rig}")
    return args


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """What every clip's capture needs, as plain values (it crosses process and network boundaries)."""
    return {
        "stride": args.stride,
        "pose_model": args.pose_model,
        "person": args.person,
        "max_people": args.max_people,
        "frames": list(args.frames) if args.frames else None,
        "device": args.device,
        "smoothing": args.smoothing,
        "root_motion": not args.no_root_motion,
        "foot_locking": not args.no_foot_locking,
        "assume_level": args.assume_level,
        "camera_pitch": args.camera_pitch,
        "camera_roll": args.camera_roll,
        "hands": args.hands,
        "rig": str(args.rig.resolve()) if args.rig else None,
        "rig_object": args.rig_object,
        "overwrite": args.overwrite,
    }


def _check_output_dir(folder: Path) -> str:
    """'' when outputs can be written there, else what is wrong (before any clip is started)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".uplift-write-check-"):
            pass
    except OSError as exc:
        return f"cannot write to the output folder {folder}: {exc.strerror or exc}"
    return ""


def plan(args: argparse.Namespace, manifest: Manifest) -> list[batch_pool.Job]:
    """One manifest entry per clip; the jobs to run (existing outputs are skipped, never replaced)."""
    clips, bad = find_clips(args.inputs, args.recursive)
    for path, why in bad:
        manifest.add(path, None, "failed", why)
    options, jobs, taken = _options(args), [], {}
    for clip in clips:
        out = (args.output_dir / f"{clip.stem}.{args.format}").resolve()
        if out in taken:
            manifest.add(clip, out, "failed", f"same output name as {taken[out]}; rename one of them")
            continue
        taken[out] = clip
        if out.exists() and not args.overwrite:
            manifest.add(clip, out, "skipped", f"{out} exists (use --overwrite)")
            continue
        batch_clip.remove_partials(out)  # what a killed run left
        index = manifest.add(clip.resolve(), out, "failed", NOT_FINISHED)
        jobs.append(
            (index, {"input": str(clip.resolve()), "output": str(out), "format": args.format, "options": options})
        )
    return jobs


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    args = parse_args(argv)
    import bpy

    in_blender = bool(bpy.app.binary_path)  # a Blender binary: its bundled Python cannot start bpy workers
    if in_blender and (args.ray or (args.workers or 1) > 1):
        print(
            "--workers/--ray need Blender as a Python module: python -m addon.batch (pip install bpy)", file=sys.stderr
        )
        return 2
    if args.ray:
        from . import batch_ray

        try:
            batch_ray.import_ray()
        except batch_ray.RayMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    problem = _check_output_dir(args.output_dir)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    runner = f"ray {args.ray}" if args.ray else "inline" if in_blender else "processes"
    manifest = Manifest(args.output_dir, argv, runner)
    jobs = plan(args, manifest)
    workers = args.workers or batch_pool.default_workers(len(jobs))
    stop = threading.Event()

    finished = [0]

    def on_result(index: int, rec: dict[str, Any]) -> None:
        manifest.update(index, rec)
        manifest.write_soon()
        finished[0] += 1
        c = manifest.clips[index]
        line = f"[{finished[0]}/{len(jobs)}] {Path(c['input']).name}: {c['status']} {c['error']}"
        print(line.rstrip(), file=sys.stderr, flush=True)

    manifest.write()
    print(
        f"{len(jobs)} clip(s) to capture ({runner}"
        f"{'' if in_blender or args.ray else f', {workers} worker(s)'}) -> {args.output_dir}",
        file=sys.stderr,
        flush=True,
    )
    restore = _stop_on_signals(stop)
    try:
        if not jobs:
            left = []
        elif args.ray:
            left = batch_ray.run_ray(jobs, on_result, stop, args.ray, args.workers, args.gpus_per_task)
        elif in_blender:
            left = batch_pool.run_inline(jobs, on_result, stop)
        else:
            threads = max(1, batch_pool.usable_cpus() // min(workers, len(jobs)))
            left = batch_pool.run_pool(jobs, on_result, stop, workers, threads)
    finally:
        restore()
        interrupted = stop.is_set()
        manifest.write(final=True, interrupted=interrupted)
    print(summary(manifest.clips))
    if interrupted:
        print(f"stopped: {len(left)} clip(s) not finished; run the same command again to resume", file=sys.stderr)
        return 130
    return 1 if manifest.counts()["failed"] else 0


def _stop_on_signals(stop: threading.Event):
    """Ctrl+C and SIGTERM stop the batch cleanly: workers are ended, partial files removed, manifest written."""

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl+C must not cut the clean-up short
            return
        stop.set()
        raise KeyboardInterrupt

    saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for s, h in saved.items():
            signal.signal(s, h)

    return restore


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
