"""Preferences: pose-model location, device, dependencies (bundled status, the optional GPU extra's hash-pinned
install) and the model download.

Both long jobs (pip install, model download) run in worker threads behind modal operators: progress in the
status bar, Esc cancels, and Blender's "Allow Online Access" is respected before anything goes online.
"""

from pathlib import Path
from typing import Any

import bpy
from bpy.props import EnumProperty, StringProperty

from . import deps, pose_bundle
from ._pkgs import ADDON_PACKAGE

PACKAGE = ADDON_PACKAGE  # the name preferences and user folders are keyed by
_install_job = None  # deps.InstallJob of the running/last install
_download_job = None  # pose_bundle.DownloadJob of the running/last model download


def user_dir(name: str, create: bool = False) -> Path:
    """A folder of the extension's user directory (kept across add-on updates), or of Blender's user data
    folder when the add-on runs from a checkout (the package is then not an extension)."""
    try:
        return Path(bpy.utils.extension_path_user(PACKAGE, path=name, create=create))
    except ValueError:  # running from a repo checkout, not as an installed extension
        path = Path(bpy.utils.user_resource("DATAFILES", path="uplift_mocap")) / name
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path


def site_dir(create: bool = False) -> Path:
    """Private site-packages for the dependencies."""
    return user_dir("site-packages", create)


def models_dir(create: bool = False) -> Path:
    """Where the add-on keeps MediaPipe's pose bundles (Blender's place for an extension's files, not ~/.cache)."""
    return user_dir("models", create)


def get(context: Any = None) -> Any | None:
    """This add-on's preferences, or None when it is not registered as an add-on (e.g. tests, bpy module)."""
    addons = (context or bpy.context).preferences.addons
    entry = addons.get(PACKAGE)
    return entry.preferences if entry is not None else None


def pose_model_location(context: Any = None) -> str:
    """The user's choice of MediaPipe bundle (file or folder), or "" (then the resolver's own search)."""
    prefs = get(context)
    return bpy.path.abspath(prefs.pose_model_path) if prefs is not None and prefs.pose_model_path else ""


def pose_model_arg(spec: str, context: Any = None) -> str:
    """What `inference.capture(pose_model=...)` gets for a variant name or a path: a chosen .task file, the
    variant's file in a chosen folder, else the bundle inference's resolver finds ($UPLIFT_POSE_MODEL, then
    `models_dir()`). Raises inference.PoseModelError, saying where to put the file, when there is none."""
    location = pose_model_location(context)
    if spec in pose_bundle.variants():
        if location and Path(location).is_file():
            return location
        if location and Path(location).is_dir():
            return str(Path(location) / f"pose_landmarker_{spec}.task")
    return str(pose_bundle.resolve(spec, models_dir()))


def device(context: Any = None) -> str:
    prefs = get(context)
    return prefs.device.lower() if prefs is not None else "auto"


class UPLIFT_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    pose_model_path: StringProperty(  # type: ignore[valid-type]
        name="Pose Model",
        description=(
            "MediaPipe PoseLandmarker bundle (.task), or a folder holding pose_landmarker_lite.task / "
            "pose_landmarker_full.task. Empty: the add-on's models folder"
        ),
        subtype="FILE_PATH",
    )
    device: EnumProperty(  # type: ignore[valid-type]
        name="Device",
        description="Where the 3D uplift model runs",
        items=[
            ("AUTO", "Auto", "GPU (CUDA / Apple MPS) when available, else CPU"),
            ("CPU", "CPU", "Always the CPU"),
            ("CUDA", "CUDA", "NVIDIA GPU"),
            ("MPS", "Apple GPU", "Apple Silicon GPU (Metal)"),
        ],
        default="AUTO",
    )
    wheel_dir: StringProperty(  # type: ignore[valid-type]
        name="Wheels Folder",
        description="Folder of .whl files to install the GPU extra from without internet (hashes still checked)",
        subtype="DIR_PATH",
    )

    def draw(self, context: Any) -> None:
        layout = self.layout
        col = layout.column()
        col.prop(self, "pose_model_path")
        row = col.row()
        job = _download_job
        row.enabled = bpy.app.online_access and (job is None or job.done)
        row.operator("uplift.download_pose_model", icon="IMPORT")
        if job is not None and not job.done:
            col.label(text=job.status_text(), icon="TIME")
        elif job is not None and job.error:
            col.label(text=job.error, icon="ERROR")
        col.label(text=f"Downloaded models: {models_dir()}")
        col.prop(self, "device")

        box = layout.box()
        box.label(text="Dependencies (bundled in the extension)", icon="SCRIPT")
        for s in deps.status(import_modules=False, modules=deps.BUNDLED):
            row = box.row()
            row.label(text=s.name)
            row.label(text=s.version or "missing", icon="CHECKMARK" if s.version else "BLANK1")
        if gone := deps.missing(import_modules=False):
            box.label(text=f"Missing: {', '.join(gone)}: install the zip made for this platform", icon="ERROR")
        _draw_gpu_extra(self, layout.box())


def _draw_gpu_extra(prefs: Any, box: Any) -> None:
    """The optional GPU extra (PyTorch with CUDA): its status and the hash-pinned install."""
    box.label(text="GPU extra (optional): PyTorch with CUDA", icon="SCRIPT")
    for s in deps.status(import_modules=False, modules=deps.GPU_MODULES):
        row = box.row()
        row.label(text=s.name)
        row.label(text=s.version or "not installed", icon="CHECKMARK" if s.version else "BLANK1")
    devs = deps.torch_devices() if "torch" in __import__("sys").modules else []
    if devs:
        box.label(text="torch devices: " + ", ".join(devs))
    if not deps.gpu_requirements():
        box.label(text=f"No GPU extra for {deps.blender_platform()}: ONNX Runtime runs on the CPU", icon="INFO")
        return
    box.label(text=f"Installed into: {site_dir()}")
    job = _install_job
    if job is not None and not job.done:
        box.label(text=f"Installing... {job.step}", icon="TIME")
    elif job is not None and job.error:
        box.label(text=job.error, icon="ERROR")
    row = box.row()
    row.enabled = job is None or job.done
    sub = row.row()
    sub.enabled = bpy.app.online_access
    sub.operator("uplift.install_dependencies", icon="IMPORT").from_folder = False
    if not bpy.app.online_access:
        box.label(
            text="Online access is off: allow it in System > Network, or install from a folder of wheels",
            icon="INFO",
        )
    col = box.column()
    col.prop(prefs, "wheel_dir")
    col.operator("uplift.install_dependencies", text="Install from Folder", icon="FILE_FOLDER").from_folder = True


class UPLIFT_OT_install_dependencies(bpy.types.Operator):
    """Install the GPU extra (PyTorch with CUDA; every package pinned by sha256) into the add-on's own folder"""

    bl_idname = "uplift.install_dependencies"
    bl_label = "Install GPU Extra"
    bl_options = {"INTERNAL"}

    from_folder: bpy.props.BoolProperty(default=False, options={"SKIP_SAVE"})  # type: ignore[valid-type]
    _timer = None

    def _make_job(self, context: Any) -> deps.InstallJob:
        prefs = get(context)
        wheel_dir = None
        if self.from_folder:
            folder = bpy.path.abspath(prefs.wheel_dir) if prefs is not None else ""
            if not folder:
                raise FileNotFoundError("Choose the folder of wheels first (Wheels Folder).")
            wheel_dir = Path(folder)
        return deps.InstallJob(
            target=site_dir(),
            wheel_dir=wheel_dir,  # created by the job when it runs
            online=bool(bpy.app.online_access),
        )

    def execute(self, context: Any) -> set[str]:
        """Blocking install (scripts); the UI goes through invoke/modal."""
        try:
            job = self._make_job(context)
            code = job.run()
        except (OSError, PermissionError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if code != 0:
            self.report({"ERROR"}, job.error)
            return {"CANCELLED"}
        self.report({"INFO"}, f"GPU extra installed into {job.target}")
        return {"FINISHED"}

    def invoke(self, context: Any, event: Any) -> set[str]:
        global _install_job
        try:
            _install_job = self._make_job(context)
            _install_job.start()
        except (OSError, PermissionError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._timer = context.window_manager.event_timer_add(0.5, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: Any, event: Any) -> set[str]:
        job = _install_job
        if event.type == "ESC" and job is not None:
            job.cancel()
        if event.type != "TIMER" or job is None:
            return {"PASS_THROUGH"}
        context.workspace.status_text_set(f"Installing dependencies: {job.step}  (Esc to cancel)")
        _redraw(context)
        if not job.done:
            return {"PASS_THROUGH"}
        _end_modal(context, self._timer)
        self._timer = None
        if job.error:
            self.report({"ERROR"}, job.error)
            return {"CANCELLED"}
        self.report({"INFO"}, f"GPU extra installed into {job.target}")
        return {"FINISHED"}

    def cancel(self, context: Any) -> None:
        """Blender ends the operator (file closed, quitting): stop pip rather than leave it running unseen."""
        if _install_job is not None:
            _install_job.cancel()
        _end_modal(context, self._timer)
        self._timer = None


def _redraw(context: Any) -> None:
    for area in context.screen.areas if context.screen else ():
        area.tag_redraw()


def _end_modal(context: Any, timer: Any) -> None:
    """Remove a modal operator's timer and its status text."""
    if timer is not None:
        context.window_manager.event_timer_remove(timer)
    if context.workspace is not None:
        context.workspace.status_text_set(None)
    _redraw(context)


class UPLIFT_OT_download_pose_model(bpy.types.Operator):
    """Download Google's official MediaPipe PoseLandmarker bundle (checked by SHA-256) into the add-on's folder"""

    bl_idname = "uplift.download_pose_model"
    bl_label = "Download Official Model"
    bl_options = {"INTERNAL"}

    variant: EnumProperty(  # type: ignore[valid-type]
        items=[("full", "Full", ""), ("lite", "Lite", "")], default="full"
    )
    _timer = None

    def _make_job(self, context: Any) -> pose_bundle.DownloadJob:
        location = pose_model_location(context)
        # A chosen folder is used as given; the add-on's own folder is created only when a download may run.
        online = bool(bpy.app.online_access)
        dest = Path(location) if location and Path(location).is_dir() else models_dir(create=online)
        return pose_bundle.DownloadJob(self.variant, dest, online=online)

    def execute(self, context: Any) -> set[str]:
        """Blocking download (scripts); the UI goes through invoke/modal."""
        try:
            job = self._make_job(context)
            path = job.run()
        except PermissionError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return self._done(job, path)

    def invoke(self, context: Any, event: Any) -> set[str]:
        global _download_job
        try:
            _download_job = self._make_job(context)
            _download_job.start()
        except PermissionError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.2, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        return {"RUNNING_MODAL"}

    def modal(self, context: Any, event: Any) -> set[str]:
        job = _download_job
        if job is None:
            return {"CANCELLED"}
        if event.type == "ESC" and event.value == "PRESS":
            job.cancel()  # the worker stops at its next chunk; the next timer tick reports it
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        context.window_manager.progress_update(int(100 * job.fraction()))
        context.workspace.status_text_set(job.status_text())
        _redraw(context)
        if not job.done:
            return {"PASS_THROUGH"}
        context.window_manager.progress_end()
        _end_modal(context, self._timer)
        self._timer = None
        return self._done(job, job.path)

    def cancel(self, context: Any) -> None:
        """Blender ends the operator (file closed, quitting): stop the download; the partial file is removed."""
        if _download_job is not None:
            _download_job.cancel()
        context.window_manager.progress_end()
        _end_modal(context, self._timer)
        self._timer = None

    def _done(self, job: pose_bundle.DownloadJob, path: Path | None) -> set[str]:
        if path is None:
            self.report({"WARNING"} if "cancelled" in job.error else {"ERROR"}, job.error)
            return {"CANCELLED"}
        self.report({"INFO"}, f"Pose model ready: {path}")
        return {"FINISHED"}


CLASSES = (UPLIFT_AddonPreferences, UPLIFT_OT_install_dependencies, UPLIFT_OT_download_pose_model)


def register() -> None:
    deps.activate(site_dir())
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    deps.deactivate(site_dir())
