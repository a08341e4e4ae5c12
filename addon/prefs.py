"""Preferences: pose-model location, device, dependencies (status + one-click install) and the model download."""

import os
from pathlib import Path
from typing import Any

import bpy
from bpy.props import EnumProperty, StringProperty

from . import deps
from ._pkgs import ADDON_PACKAGE

PACKAGE = ADDON_PACKAGE  # the name preferences and user folders are keyed by
_install_job = None  # deps.InstallJob of the running/last install


def site_dir(create: bool = False) -> Path:
    """Private site-packages for the dependencies: the extension's user folder (survives upgrades)."""
    try:
        return Path(bpy.utils.extension_path_user(PACKAGE, path="site-packages", create=create))
    except ValueError:  # running from a repo checkout, not as an installed extension
        path = Path(bpy.utils.user_resource("DATAFILES", path="uplift_mocap")) / "site-packages"
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path


def get(context: Any = None) -> Any | None:
    """This add-on's preferences, or None when it is not registered as an add-on (e.g. tests, bpy module)."""
    addons = (context or bpy.context).preferences.addons
    entry = addons.get(PACKAGE)
    return entry.preferences if entry is not None else None


def pose_model_location(context: Any = None) -> str:
    """The user's choice of MediaPipe bundle (file or folder), else $UPLIFT_POSE_MODEL, else "" (default cache)."""
    prefs = get(context)
    if prefs is not None and prefs.pose_model_path:
        return bpy.path.abspath(prefs.pose_model_path)
    return os.environ.get("UPLIFT_POSE_MODEL", "")


def pose_model_arg(variant: str, context: Any = None) -> str:
    """What `inference.capture(pose_model=...)` gets: a chosen .task file, the variant's file in a chosen
    folder, or the bare variant name (then $UPLIFT_POSE_MODEL and the user cache are searched)."""
    location = pose_model_location(context)
    if location and Path(location).is_file():
        return location
    if location and Path(location).is_dir():
        return str(Path(location) / f"pose_landmarker_{variant}.task")
    return variant


def device(context: Any = None) -> str:
    prefs = get(context)
    return prefs.device.lower() if prefs is not None else "auto"


class UPLIFT_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    pose_model_path: StringProperty(  # type: ignore[valid-type]
        name="Pose Model",
        description=(
            "MediaPipe PoseLandmarker bundle (.task), or a folder holding pose_landmarker_lite.task / "
            "pose_landmarker_full.task. Empty: the add-on's cache folder"
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
        description="Folder of .whl files to install the dependencies from without internet",
        subtype="DIR_PATH",
    )

    def draw(self, context: Any) -> None:
        layout = self.layout
        col = layout.column()
        col.prop(self, "pose_model_path")
        row = col.row()
        row.operator("uplift.download_pose_model", icon="IMPORT")
        col.prop(self, "device")

        box = layout.box()
        box.label(text="Dependencies", icon="SCRIPT")
        for s in deps.status(import_modules=False):
            row = box.row()
            row.label(text=s.name)
            row.label(text=s.version or "missing", icon="CHECKMARK" if s.version else "ERROR")
        devs = deps.torch_devices() if "torch" in __import__("sys").modules else []
        if devs:
            box.label(text="torch devices: " + ", ".join(devs))
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
        col.prop(self, "wheel_dir")
        col.operator("uplift.install_dependencies", text="Install from Folder", icon="FILE_FOLDER").from_folder = True


class UPLIFT_OT_install_dependencies(bpy.types.Operator):
    """Install torch, MediaPipe, OpenCV, SciPy and safetensors (pinned) into the add-on's own folder"""

    bl_idname = "uplift.install_dependencies"
    bl_label = "Install Dependencies"
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
        self.report({"INFO"}, f"Dependencies installed into {job.target}")
        return {"FINISHED"}

    def invoke(self, context: Any, event: Any) -> set[str]:
        global _install_job
        try:
            _install_job = self._make_job(context)
            _install_job.start()
        except (OSError, PermissionError) as exc:
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
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()
        if not job.done:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        context.workspace.status_text_set(None)
        if job.error:
            self.report({"ERROR"}, job.error)
            return {"CANCELLED"}
        self.report({"INFO"}, f"Dependencies installed into {job.target}")
        return {"FINISHED"}


class UPLIFT_OT_download_pose_model(bpy.types.Operator):
    """Download Google's official MediaPipe PoseLandmarker bundle (checked by SHA-256) into the cache"""

    bl_idname = "uplift.download_pose_model"
    bl_label = "Download Official Model"
    bl_options = {"INTERNAL"}

    variant: EnumProperty(  # type: ignore[valid-type]
        items=[("full", "Full", ""), ("lite", "Lite", "")], default="full"
    )

    def execute(self, context: Any) -> set[str]:
        if not bpy.app.online_access:
            self.report(
                {"ERROR"},
                "Online access is off (Preferences > System > Network). Download the .task "
                "file elsewhere and set Pose Model to it.",
            )
            return {"CANCELLED"}
        from importlib import import_module

        from ._pkgs import inference

        pose_model = import_module(".pose_model", inference.__name__)
        location = pose_model_location(context)
        dest = Path(location) if location and Path(location).is_dir() else None  # chosen folder, else cache
        try:
            path = pose_model.fetch_pose_model(self.variant, dest_dir=dest)
        except inference.UpliftError as exc:
            self.report({"ERROR"}, str(exc))
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
