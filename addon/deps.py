"""The add-on's Python dependencies: the bundled ones (reported), and the optional GPU extra (installed by pip).

Why this shape: the extension zip of each platform bundles the wheels a capture needs (MediaPipe, ONNX
Runtime, a video decoder, SciPy; see build_wheels.py), and Blender installs them with the extension: no pip,
no network. What cannot be bundled is PyTorch with CUDA (GBs), needed only to run the model on an NVIDIA GPU.
That extra is installed on request: Blender's own Python (`sys.executable -m pip`) in a subprocess, every
package and its sha256 from gpu_extra.toml (`--require-hashes --no-deps`), with `--target` into the
extension's user directory, which `activate()` appends to sys.path. Nothing else of the user's Python is
touched. Without internet access (Blender's "Allow Online Access" off) the same install works from a folder
of those wheels (`--no-index --find-links`); either way pip refuses any file whose hash differs.
No bpy here: the operator in prefs.py passes the folder and the online flag in.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

GPU_LOCK = Path(__file__).with_name("gpu_extra.toml")
# distribution name -> import name, in the order the preferences list them; av or cv2 is the decoder
BUNDLED: dict[str, str] = {
    "mediapipe": "mediapipe",
    "onnxruntime": "onnxruntime",
    "av": "av",
    "opencv-python-headless": "cv2",
    "numpy": "numpy",
}
DECODERS = ("av", "opencv-python-headless")  # either one is enough (inference/video falls back to OpenCV)
GPU_MODULES: dict[str, str] = {"torch": "torch", "safetensors": "safetensors"}


def blender_platform() -> str:
    """Blender's name for this machine ("linux-x64", "windows-x64", "macos-arm64", ...)."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "arm64": "arm64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{arch}"


def gpu_requirements(plat: str | None = None) -> list[str]:
    """The GPU extra for a platform, `name==version --hash=sha256:...` per package; [] where there is none."""
    data = tomllib.loads(GPU_LOCK.read_text(encoding="utf-8"))
    return list(data.get(plat or blender_platform(), {}).get("requirements", []))


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


def _dist_version(dist: str) -> tuple[str | None, str]:
    try:
        return importlib.metadata.version(dist), ""
    except importlib.metadata.PackageNotFoundError:
        return None, "not installed"


def status(import_modules: bool = True, modules: dict[str, str] | None = None) -> list[DepStatus]:
    """What Blender's Python can use. `import_modules=False` only reads metadata (cheap, for drawing UI)."""
    out = []
    for dist, mod in (modules or {**BUNDLED, **GPU_MODULES}).items():
        ver, err = _version(mod) if import_modules else _dist_version(dist)
        if not import_modules and ver is None and dist == "opencv-python-headless":
            ver, err = _dist_version("opencv-contrib-python")  # a developer checkout's OpenCV
        out.append(DepStatus(dist, mod, ver, err))
    return out


def missing(import_modules: bool = True) -> list[str]:
    """Bundled distributions a capture needs but Python cannot import (the zip was not for this platform, or
    the install was damaged). One decoder is enough."""
    gone = [s.name for s in status(import_modules, BUNDLED) if s.version is None]
    if any(d not in gone for d in DECODERS):
        gone = [g for g in gone if g not in DECODERS]
    return gone


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
    requirements_file: str | os.PathLike[str],
    *,
    wheel_dir: str | os.PathLike[str] | None = None,
    python: str | None = None,
) -> list[str]:
    """The pip call: hash-checked, exactly the listed packages (no resolution), wheels only. With `wheel_dir`
    pip never touches the network (--no-index)."""
    cmd = [python or sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    cmd += ["--upgrade", "--require-hashes", "--no-deps", "--only-binary=:all:", "--target", str(target)]
    if wheel_dir is not None:
        cmd += ["--no-index", "--find-links", str(wheel_dir)]
    return cmd + ["--requirement", str(requirements_file)]


_STEP = re.compile(r"^(Collecting|Downloading|Processing|Installing collected packages|Successfully installed)\b")


@dataclass
class InstallJob:
    """pip in a subprocess, driven from a thread, so the UI can show progress and cancel. `requirements`:
    hash-pinned lines (default: this platform's GPU extra)."""

    target: Path
    requirements: Sequence[str] | None = None
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
        if self.requirements is None:
            self.requirements = gpu_requirements()
        if not self.requirements:
            raise RuntimeError(
                f"There is no GPU extra for {blender_platform()}: the bundled ONNX Runtime runs the model on the "
                "CPU (about 0.4 ms per frame), nothing needs installing."
            )
        if self.wheel_dir is None and not self.online:
            raise PermissionError(
                "Online access is off (Preferences > System > Network > Allow Online Access). Turn it on to "
                "install the GPU extra from PyPI, or choose 'Install from Folder' with a folder of its wheels."
            )
        if self.wheel_dir is not None and not Path(self.wheel_dir).is_dir():
            raise FileNotFoundError(f"Wheel folder not found: {self.wheel_dir}")

    def command(self) -> list[str]:
        self.target.mkdir(parents=True, exist_ok=True)
        reqs = self.target.parent / "uplift_gpu_requirements.txt"
        reqs.write_text("\n".join(self.requirements or ()) + "\n", encoding="utf-8")
        return pip_command(self.target, reqs, wheel_dir=self.wheel_dir, python=self.python)

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
