"""`uplift.capture_video`: video -> keyframed armature action, with progress, Esc to cancel and one undo step.

Interactive (INVOKE): the capture runs in a worker thread (job.py); `modal` only polls it on a timer,
shows progress in the status bar and the cursor, and cancels on Esc. Nothing touches the scene until the
capture has succeeded; then apply.py writes the armature/action in one go and the operator finishes, so
Blender records exactly one undo step (and offers no redo panel, which would re-run the capture).
Cancel or failure returns CANCELLED: no undo step, scene unchanged.
Scripts, batch and tests use EXEC (`bpy.ops.uplift.capture_video(filepath=...)`), which runs synchronously.
"""

import time
from pathlib import Path
from typing import Any

import bpy
from bpy.props import BoolProperty, StringProperty

from . import apply, job, prefs, props, quality_ui


def _video_info(path: str) -> Any | None:
    """Size/frame count for the estimate; cached per file (probing opens the container)."""
    try:
        p = Path(bpy.path.abspath(path))
        key = (str(p), p.stat().st_mtime)
    except OSError:
        return None
    if key not in _INFO_CACHE:
        try:
            from ._pkgs import inference

            _INFO_CACHE[key] = inference.probe(p)
        except Exception:  # noqa: BLE001 - unreadable clip or missing deps: no estimate, capture reports why
            _INFO_CACHE[key] = None
    return _INFO_CACHE[key]


_INFO_CACHE: dict[tuple[str, float], Any] = {}


def estimate_text(path: str, src: Any) -> str:
    info = _video_info(path) if path else None
    if info is None or not info.frame_count:
        return "Estimated time: choose a readable video"
    frames = info.frame_count
    if src.use_frame_range:
        end = src.frame_end + 1 if src.frame_end > 0 else frames
        frames = max(0, min(end, frames) - src.frame_start)
    if src.stride_auto:  # the key-frame count depends on the motion: the range seen on still .. busy clips
        strides = job.auto_strides(info.fps)
        lo, hi = (job.estimate_seconds(frames, s, src.pose_model, info.width, info.height, src.hands) for s in strides)
        keys_lo, keys_hi = (-(-frames // s) for s in strides)
        secs = f"{job.format_seconds(lo)} to {job.format_seconds(hi)}"
        return f"{frames} frames, auto: {keys_lo}-{keys_hi} key-frames: {secs}"
    secs = job.estimate_seconds(frames, src.stride, src.pose_model, info.width, info.height, src.hands)
    keys = -(-frames // max(1, src.stride))
    return f"{frames} frames, {keys} key-frames: {job.format_seconds(secs)}"


class UPLIFT_OT_capture_video(bpy.types.Operator):
    """Capture the motion of a person in a video as keyframed animation on an armature"""

    bl_idname = "uplift.capture_video"
    bl_label = "Capture Motion from Video"
    # UNDO alone: Blender still pushes one undo step when the operator finishes (wm_operator_finished checks
    # only OPTYPE_UNDO), but without REGISTER there is no redo panel / Adjust Last Operation (which needs
    # both flags, WM_operator_last_redo): changing a value there would undo and re-run a minutes-long capture.
    bl_options = {"UNDO"}

    filepath: StringProperty(name="Video", subtype="FILE_PATH")  # type: ignore[valid-type]
    filter_glob: StringProperty(default=props.VIDEO_GLOB, options={"HIDDEN"})  # type: ignore[valid-type]
    from_browser: BoolProperty(default=False, options={"HIDDEN", "SKIP_SAVE"})  # type: ignore[valid-type]
    __annotations__.update(props.capture_props())

    _job = None  # job.CaptureJob while running modal
    _timer = None

    # ---------------------------------------------------------------------------------------------------
    def _options(self, context: Any) -> job.CaptureOptions | None:
        """The capture's options, or None (reported) when the request cannot work: checked before any work."""
        from ._pkgs import inference

        if msg := self._check(context):
            self.report({"ERROR"}, msg)
            return None
        try:
            pose_model = prefs.pose_model_arg(self.pose_model, context)
        except inference.UpliftError as exc:  # no MediaPipe bundle: the message says where to put one
            self.report({"ERROR"}, str(exc))
            return None
        options = props.to_options(
            self, bpy.path.abspath(self.filepath), device=prefs.device(context), pose_model=pose_model
        )
        if options.hands == "FINGERS":  # the hand bundle: $UPLIFT_HAND_MODEL, else the add-on's models folder
            try:
                options.extra["hand_model"] = str(inference.resolve_hand_model(cache_dir=prefs.models_dir()))
            except inference.UpliftError as exc:
                self.report({"ERROR"}, str(exc))
                return None
        return options

    def _check(self, context: Any) -> str:
        """Refuse early with a message the user can act on, before any work is done."""
        if not self.filepath:
            return "Choose a video file."
        if not Path(bpy.path.abspath(self.filepath)).is_file():
            return f"Video file not found: {bpy.path.abspath(self.filepath)}"
        if self.target_rig:
            obj = context.scene.objects.get(self.target_rig)
            if obj is None or obj.type != "ARMATURE":
                return f"Target rig '{self.target_rig}' is not an armature in this scene."
            if obj.library is not None or (obj.data is not None and obj.data.library is not None):
                return f"Target rig '{self.target_rig}' is linked from a library; make it local or an override."
        if context.mode not in {"OBJECT", "POSE"}:
            return "Switch to Object or Pose mode to capture."
        return ""

    def draw(self, context: Any) -> None:
        props.draw_options(self.layout, self, context)
        self.layout.label(text=estimate_text(self.filepath, self), icon="TIME")

    # --- synchronous (scripts, batch, tests) -----------------------------------------------------------
    def execute(self, context: Any) -> set[str]:
        if self.from_browser and context.window is not None:
            # Confirmed in the file browser: Blender keeps the operator alive when exec returns
            # RUNNING_MODAL with a modal handler added, so the capture continues with progress + Esc.
            return self._start_modal(context)
        if (options := self._options(context)) is None:
            return {"CANCELLED"}
        capture_job = job.CaptureJob(options)
        try:
            result = capture_job.run()
        except Exception:  # noqa: BLE001 - every failure is reported, the scene is untouched
            return self._fail(capture_job)
        return self._finish(context, capture_job, result)

    # --- interactive -----------------------------------------------------------------------------------
    def invoke(self, context: Any, event: Any) -> set[str]:
        if not self.filepath:
            self.from_browser = True
            context.window_manager.fileselect_add(self)
            return {"RUNNING_MODAL"}
        return self._start_modal(context)

    def _start_modal(self, context: Any) -> set[str]:
        if (options := self._options(context)) is None:
            return {"CANCELLED"}
        self._job = job.CaptureJob(options)
        self._job.start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        context.workspace.status_text_set(self._job.status_text())
        self.report({"INFO"}, f"Capturing {Path(self.filepath).name} (Esc to cancel)")
        return {"RUNNING_MODAL"}

    def modal(self, context: Any, event: Any) -> set[str]:
        assert self._job is not None
        if event.type == "ESC" and event.value == "PRESS":
            self._job.cancel()
            if not self._job.running:  # finished and waiting for Object/Pose Mode: discard it
                self._end_modal(context)
                self.report({"WARNING"}, "Capture discarded; the scene was not changed.")
                return {"CANCELLED"}
            context.workspace.status_text_set("Uplift capture: cancelling...")
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if self._job.running:
            context.window_manager.progress_update(int(100 * self._job.fraction()))
            context.workspace.status_text_set(self._job.status_text())
            return {"PASS_THROUGH"}
        if self._job.error is None and context.mode not in {"OBJECT", "POSE"}:
            # The user entered Edit Mode meanwhile: keep the finished capture until the scene can take it.
            context.workspace.status_text_set(
                "Uplift capture ready: return to Object or Pose Mode to apply it (Esc discards it)"
            )
            return {"PASS_THROUGH"}
        self._end_modal(context)
        if self._job.error is not None or self._job.result is None:
            return self._fail(self._job)
        return self._finish(context, self._job, self._job.result)

    def cancel(self, context: Any) -> None:
        """Blender is closing the operator (e.g. the file is being closed): stop the worker, change nothing."""
        if self._job is not None:
            self._job.cancel()
        self._end_modal(context)

    def _end_modal(self, context: Any) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        context.workspace.status_text_set(None)

    # --- shared ----------------------------------------------------------------------------------------
    def _fail(self, capture_job: job.CaptureJob) -> set[str]:
        from ._pkgs import inference

        if isinstance(capture_job.error, inference.CaptureCancelled):
            self.report({"WARNING"}, "Capture cancelled; the scene was not changed.")
        else:
            if capture_job.error_detail:
                print(capture_job.error_detail)
            self.report({"ERROR"}, capture_job.error_message())
        return {"CANCELLED"}

    def _finish(self, context: Any, capture_job: job.CaptureJob, result: Any) -> set[str]:
        t0 = time.perf_counter()
        try:
            applied = apply.apply_capture(context, result, capture_job.options)
        except Exception as exc:  # noqa: BLE001 - apply_capture rolls its own changes back before raising
            from ._pkgs import inference

            if not isinstance(exc, inference.UpliftError):
                import traceback

                traceback.print_exc()
            self.report({"ERROR"}, f"Could not write the animation: {exc}")
            return {"CANCELLED"}
        frames = len(result.joints3d)
        w, h = result.image_size
        job.learn(
            result.timings.as_dict(),
            frames,
            len(result.keyframes),
            capture_job.options.pose_model,
            int(w),
            int(h),
            time.perf_counter() - t0,
        )
        for warning in capture_job.warnings + list(getattr(result, "warnings", [])) + applied.warnings:
            self.report({"WARNING"}, str(warning))
        if applied.quality is not None:  # the stretch to check first, then how good the rest is
            if worst := quality_ui.worst_text(applied.quality):
                self.report({"WARNING"}, worst)
            self.report({"INFO"}, applied.quality["summary"])
        self.report({"INFO"}, applied.summary(capture_job.finished - capture_job.started))
        return {"FINISHED"}


class UPLIFT_OT_estimate_refresh(bpy.types.Operator):
    """Forget cached video information (after replacing a file with the same name)"""

    bl_idname = "uplift.estimate_refresh"
    bl_label = "Refresh Estimate"
    bl_options = {"INTERNAL"}

    def execute(self, context: Any) -> set[str]:
        _INFO_CACHE.clear()
        return {"FINISHED"}


def menu_import(self: Any, context: Any) -> None:
    self.layout.operator(UPLIFT_OT_capture_video.bl_idname, text="Motion from Video (Uplift)")


CLASSES = (UPLIFT_OT_capture_video, UPLIFT_OT_estimate_refresh)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.TOPBAR_MT_file_import.append(menu_import)


def unregister() -> None:
    bpy.types.TOPBAR_MT_file_import.remove(menu_import)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
