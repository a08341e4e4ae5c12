"""One clip of a batch, in whichever process runs it (the batch itself, a pool worker, a Ray task).

empty scene (or a fresh load of --rig) -> capture -> keys -> export under a temporary name -> rename.
`run(job)` takes and returns plain dicts so a job can cross a process or a network boundary as it is;
nothing here decides about other clips (batch.py does).
"""

from __future__ import annotations

import glob
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

FORMATS = ("blend", "bvh", "fbx", "glb")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def partial_path(out: Path) -> Path:
    """Where `out` is written before it is complete (hidden, same folder: the rename is atomic)."""
    return out.with_name(f".{out.stem}.partial{out.suffix}")


def remove_partials(out: Path) -> None:
    """Delete what an unfinished export of `out` left (the exporter's file and Blender's own `@` temp)."""
    for p in out.parent.glob(f".{glob.escape(out.stem)}.partial*"):
        p.unlink(missing_ok=True)


def limit_threads(threads: int) -> None:
    """Cap the math libraries' thread pools of this process (before they load): N workers share the cores."""
    for name in _THREAD_VARS:
        os.environ[name] = str(max(1, threads))


def peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 1024), 1)


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Capture job['input'] into job['output']; never raises: a failure is a record with status 'failed'."""
    t0 = time.perf_counter()
    out = Path(job["output"])
    rec: dict[str, Any] = {"status": "failed", "error": ""}
    try:
        rec = _capture(job)
    except Exception as exc:  # noqa: BLE001 - one broken clip must not stop the batch
        from ._pkgs import inference

        if isinstance(exc, inference.UpliftError):
            rec = {"status": "failed", "error": str(exc)}
        else:
            traceback.print_exc()
            rec = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    finally:
        remove_partials(out)
    rec.update(seconds=round(time.perf_counter() - t0, 2), worker_peak_mb=peak_mb(), worker_pid=os.getpid())
    return rec


def blender() -> Any:
    """bpy with the add-on registered (a checkout is not an installed extension)."""
    import bpy

    if not hasattr(bpy.types, "UPLIFT_OT_capture_video"):
        from . import register

        register()
    return bpy


def _new_scene(bpy: Any, rig: str | None, rig_object: str) -> str:
    """A clean scene for each clip; returns the target armature's name ('' = create one)."""
    if not rig:
        bpy.ops.wm.read_homefile(use_empty=True)
        return ""
    bpy.ops.wm.open_mainfile(filepath=str(rig), load_ui=False)
    arms = [o for o in bpy.context.scene.objects if o.type == "ARMATURE"]
    if rig_object:
        if not any(o.name == rig_object for o in arms):
            raise RuntimeError(f"no armature named '{rig_object}' in {rig}")
        return rig_object
    if len(arms) != 1:
        raise RuntimeError(f"{rig} has {len(arms)} armatures; choose one with --rig-object")
    return arms[0].name


def _capture(job: dict[str, Any]) -> dict[str, Any]:
    bpy = blender()
    from . import apply, prefs
    from . import job as job_mod
    from ._pkgs import bpy_keys

    o = job["options"]
    clip, out = Path(job["input"]), Path(job["output"])
    target = _new_scene(bpy, o.get("rig"), o.get("rig_object", ""))
    options = job_mod.CaptureOptions(
        video=str(clip),
        stride=o["stride"],
        pose_model=prefs.pose_model_arg(o["pose_model"]),  # the add-on's models folder, like the operator
        person=o["person"],
        frame_range=tuple(o["frames"]) if o.get("frames") else None,
        device=o["device"],
        target=target,
        smoothing=o["smoothing"],
        root_motion=o["root_motion"],
        foot_locking=o["foot_locking"],
        assume_level=o["assume_level"],
        camera_pitch=o["camera_pitch"],
        camera_roll=o["camera_roll"],
        hands=o.get("hands", "wrists").upper(),
        extra={"max_people": o["max_people"]},
    )
    capture_job = job_mod.CaptureJob(options, on_progress=_Progress(clip.name))
    result = capture_job.run()
    # Each output is its own file: run its scene at the video's rate so every video frame is one key.
    bpy_keys.set_scene_timing(bpy.context.scene, result.fps, 1, len(result.joints3d))
    applied = apply.apply_capture(bpy.context, result, options)
    export(bpy, job["format"], out, applied.armature, applied.action, overwrite=bool(o.get("overwrite")))
    warnings = capture_job.warnings + list(getattr(result, "warnings", [])) + applied.warnings
    print(f"  {clip.name}: {applied.camera}", file=sys.stderr, flush=True)
    return {
        "status": "done",
        "error": "",
        "frames": len(result.joints3d),
        "keyframes": len(result.keyframes),
        "camera": applied.camera,
        "warnings": warnings,
        "quality": quality_summary(result.report),
    }


class _Progress:
    """Sparse progress lines on stderr, prefixed by the clip (several workers share one terminal)."""

    def __init__(self, name: str) -> None:
        self.name, self.stage, self.at = name, "", 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.stage or done == total or now - self.at > 5.0:
            print(f"  {self.name}: {stage} {done}/{total}", file=sys.stderr, flush=True)
            self.stage, self.at = stage, now


def quality_summary(report: Any) -> dict[str, Any] | None:
    """The capture's quality report in brief, for the manifest (the full report lives in the capture)."""
    if report is None:
        return None
    d = report.as_dict()
    keep = ("detection_rate", "keyframe_count", "effective_stride", "flag_counts", "flagged_fraction", "metrics")
    return {"summary": report.summary(), **{k: d[k] for k in keep}}


def export(bpy: Any, fmt: str, out: Path, armature: Any, action: Any, overwrite: bool = False) -> None:
    """Write the armature and its action; the temp name + rename keeps a half-written file from looking
    like a result, and an output that appeared meanwhile is never replaced unless `overwrite`."""
    tmp = partial_path(out)
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
    elif fmt == "fbx":
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
    elif fmt == "glb":
        _enable("io_scene_gltf2")
        bpy.ops.export_scene.gltf(
            filepath=str(tmp),
            export_format="GLB",
            use_selection=True,
            export_animations=True,
            export_animation_mode="ACTIVE_ACTIONS",
            export_force_sampling=True,
        )
    else:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if not tmp.is_file():
        raise RuntimeError(f"the {fmt} exporter wrote nothing")
    if out.exists() and not overwrite:  # appeared while we worked: never clobber
        tmp.unlink()
        raise RuntimeError(f"{out} appeared during the capture; not overwritten")
    os.replace(tmp, out)


def _enable(module: str) -> None:
    import addon_utils

    if not addon_utils.check(module)[1]:
        addon_utils.enable(module, default_set=False)
