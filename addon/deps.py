"""The add-on's Python dependencies: what is found, and a pinned pip install into the extension's own folder.

Why this shape: torch, MediaPipe and OpenCV are hundreds of MB and differ per platform and GPU, so the
zip does not bundle them. Instead the preferences show what Blender's Python can import and offer a
one-click install that runs Blender's own Python (`sys.executable -m pip`) in a subprocess, installing
pinned versions with `--target` into the extension's user directory, which `activate()` appends to
sys.path. Nothing else of the user's Python is touched. Without internet access (Blender's "Allow
Online Access" off) the same install works from a folder of wheels (`--no-index --find-links`).
No bpy here: the operator in prefs.py passes the folder and the online flag in.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

# Pinned versions the add-on is tested with (keep in step with the repo's requirements.txt).
REQUIREMENTS: tuple[str, ...] = (
    "torch==2.13.0",
    "mediapipe==0.10.31",
    "opencv-contrib-python==4.10.0.84",
    "scipy==1.13.1",
    "safetensors==0.4.5",
    "av==16.0.1",
)
# distribution name -> import name, in the order the preferences list them
MODULES: dict[str, str] = {
    "torch": "torch",
    "mediapipe": "mediapipe",
    "opencv-contrib-python": "cv2",
    "scipy": "scipy",
    "safetensors": "safetensors",
    "av": "av",
    "numpy": "numpy",
}


@dataclass
class DepStatus:
    name: str
    module: str
    version: str | None  # None: not importable
    error: str = ""


def _version(module_name: str) -> tuple[str | None, str]:
    try:
        mod = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure means "not usable", say why
        return None, f"{type(exc).__name__}: {exc}"
    return str(getattr(mod, "__version__", "") or "installed"), ""


def status(import_modules: bool = True) -> list[DepStatus]:
    """What Blender's Python can use. `import_modules=False` only reads metadata (cheap, for drawing UI)."""
    out = []
    for dist, mod in MODULES.items():
        if import_modules:
            ver, err = _version(mod)
        else:
            try:
                ver, err = importlib.metadata.version(dist), ""
            except importlib.metadata.PackageNotFoundError:
                ver, err = (None, "not installed")
        out.append(DepStatus(dist, mod, ver, err))
    return out


def missing(import_modules: bool = True) -> list[str]:
    """Distribution names the capture needs but Python cannot import."""
    return [s.name for s in status(import_modules) if s.version is None]


def torch_devices() -> list[str]:
    """Devices torch can use here ("cpu" always), for the preferences and the 'auto' choice."""
    try:
        import torch
    except Exception:  # noqa: BLE001
        return []
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.insert(0, "cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.insert(0, "mps")
    return devices


def activate(site_dir: str | os.PathLike[str]) -> bool:
    """Append the extension's private site-packages to sys.path (after Blender's own, so Blender's numpy wins)."""
    path = str(Path(site_dir))
    if not Path(path).is_dir():
        return False
    if path not in sys.path:
        sys.path.append(path)
        importlib.invalidate_caches()
    return True


def deactivate(site_dir: str | os.PathLike[str]) -> None:
    path = str(Path(site_dir))
    while path in sys.path:
        sys.path.remove(path)


def pip_command(
    target: str | os.PathLike[str],
    requirements: Sequence[str] = REQUIREMENTS,
    *,
    wheel_dir: str | os.PathLike[str] | None = None,
    constraints: str | os.PathLike[str] | None = None,
    python: str | None = None,
) -> list[str]:
    """The pip call. With `wheel_dir` pip never touches the network (--no-index)."""
    cmd = [
        python or sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--upgrade",
        "--target",
        str(target),
    ]
    if wheel_dir is not None:
        cmd += ["--no-index", "--find-links", str(wheel_dir)]
    if constraints is not None:
        cmd += ["--constraint", str(constraints)]
    return cmd + list(requirements)


def numpy_constraint() -> str:
    """Keep the numpy that Blender ships: a second numpy in the target would shadow or clash with it."""
    try:
        return f"numpy=={importlib.metadata.version('numpy')}\n"
    except importlib.metadata.PackageNotFoundError:
        return ""


_STEP = re.compile(r"^(Collecting|Downloading|Processing|Installing collected packages|Successfully installed)\b")


@dataclass
class InstallJob:
    """pip in a subprocess, driven from a thread, so the UI can show progress and cancel."""

    target: Path
    requirements: Sequence[str] = REQUIREMENTS
    wheel_dir: Path | None = None
    online: bool = False
    python: str | None = None
    lines: list[str] = field(default_factory=list)
    step: str = ""
    returncode: int | None = None
    error: str = ""
    _proc: subprocess.Popen[str] | None = None
    _thread: threading.Thread | None = None
    _cancel: bool = False

    def check(self) -> None:
        """Refuse before starting rather than fail half-way; the message says what to do instead."""
        if self.wheel_dir is None and not self.online:
            raise PermissionError(
                "Online access is off (Preferences > System > Network > Allow Online Access). Turn it on to "
                "install the dependencies from PyPI, or choose 'Install from Folder' with a folder of wheels."
            )
        if self.wheel_dir is not None and not Path(self.wheel_dir).is_dir():
            raise FileNotFoundError(f"Wheel folder not found: {self.wheel_dir}")

    def command(self) -> list[str]:
        self.target.mkdir(parents=True, exist_ok=True)
        constraints = self.target.parent / "uplift_constraints.txt"
        constraints.write_text(numpy_constraint())
        return pip_command(
            self.target, self.requirements, wheel_dir=self.wheel_dir, constraints=constraints, python=self.python
        )

    def _ensure_pip(self, python: str) -> None:
        probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True)
        if probe.returncode != 0:  # older Blender builds ship without pip
            subprocess.run(
                [python, "-m", "ensurepip", "--default-pip"],
                capture_output=True,
                text=True,
                check=True,
                env=_clean_env(),
            )

    def run(self) -> int:
        """Blocking install; returns pip's exit code (0 = installed). Output lines are kept for the report."""
        self.check()
        cmd = self.command()
        self._ensure_pip(cmd[0])
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_clean_env()
        )
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip()
            self.lines.append(line)
            if _STEP.match(line):
                self.step = line[:120]
            if self._cancel:
                self._proc.terminate()
        self.returncode = self._proc.wait()
        if self._cancel:
            self.error = "Cancelled."
        elif self.returncode != 0:
            tail = [ln for ln in self.lines if ln.strip()][-3:]
            self.error = "pip failed: " + " | ".join(tail)
        else:
            activate(self.target)
        return self.returncode

    def start(self) -> None:
        self.check()

        def work() -> None:
            try:
                self.run()
            except Exception as exc:  # noqa: BLE001 - reported to the UI as text
                self.error = f"{type(exc).__name__}: {exc}"
                self.returncode = -1

        self._thread = threading.Thread(target=work, name="uplift-pip", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def cancel(self) -> None:
        self._cancel = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()


def _clean_env() -> dict[str, str]:
    """pip must not pick up the user's own site-packages or a PYTHONPATH meant for something else."""
    env = dict(os.environ)
    env["PYTHONNOUSERSITE"] = "1"
    env.pop("PYTHONPATH", None)
    env.pop("PIP_TARGET", None)
    return env
