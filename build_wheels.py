"""The wheels each platform's extension zip bundles: which (pinned), for which pip platform tags, locked by sha256.

Why this shape: Blender's extensions install wheels from the zip itself (`wheels = [...]` in the manifest), so a
user needs neither pip nor the network. The lock (wheels.lock, committed) names every file and its sha256;
`fetch()` downloads each one with pip for its platform into a cache outside the repo and refuses a file whose
hash differs. `lock()` regenerates the lock from REQUIREMENTS (`python build.py --lock`).

What is bundled is what capture imports, checked in a venv holding only bpy (tests/test_fresh_install.py):
MediaPipe (vision tasks), ONNX Runtime, PyAV (the one decoder: inference/video prefers it, OpenCV is only its
fallback, and its wheel is the smaller one on every platform), SciPy (retarget's filters, root spline, the
tracker's assignment). Not bundled: numpy (Blender's own), torch (the optional GPU extra, addon/deps.py),
and the declared dependencies a capture never imports.
Blender 4.2 to 5.0 all run Python 3.11.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent
LOCK = REPO / "wheels.lock"
CACHE = Path(os.environ.get("UPLIFT_WHEEL_CACHE", Path.home() / ".cache" / "uplift-mocap" / "wheels"))
PYTHON = "3.11"  # Blender 4.2 LTS, 4.5 LTS and 5.0

# Blender platform -> the pip platform tags its wheels may carry (Blender 4.2+ needs glibc 2.28 on Linux).
PLATFORMS: dict[str, tuple[str, ...]] = {
    "linux-x64": (
        *(f"manylinux_2_{v}_x86_64" for v in range(28, 4, -1)),
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
    ),
    "windows-x64": ("win_amd64",),
    "macos-arm64": tuple(f"macosx_{v}_0_arm64" for v in (11, 12, 13, 14)),
    "macos-x64": tuple(f"macosx_{v}_x86_64" for v in ("10_9", "10_15", "11_0", "12_0", "13_0")),
}

# MediaPipe 0.10.31 declares absl-py, flatbuffers and sounddevice, and ONNX Runtime flatbuffers, packaging and
# protobuf, but a pose capture imports none of them (tests/test_fresh_install.py runs without).
_CURRENT = (
    "mediapipe==0.10.31",
    "onnxruntime==1.32.0",
    "av==16.0.1",
)
# Intel Macs: MediaPipe 0.10.21 and ONNX Runtime 1.23.2 are the last releases with macOS x86_64 wheels. That
# MediaPipe imports cv2, protobuf, attrs and matplotlib.pyplot at import time (its drawing utils), so OpenCV (headless)
# comes along and is the decoder there instead of PyAV (inference/video falls back to it), plus what
# matplotlib.pyplot imports. The same set on Linux wheels captures (tests/test_fresh_install.py).
_MACOS_X64 = (
    "mediapipe==0.10.21",
    "protobuf==4.25.8",
    "attrs==26.1.0",
    "onnxruntime==1.23.2",
    "opencv-python-headless==4.10.0.84",
    "matplotlib==3.9.2",
    "cycler==0.12.1",
    "kiwisolver==1.5.1",
    "pillow==13.0.0",
    "pyparsing==3.3.3",
    "python-dateutil==4.0.0",
    "packaging==26.4",
)
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "linux-x64": _CURRENT,
    "windows-x64": _CURRENT,
    "macos-arm64": _CURRENT,
    "macos-x64": _MACOS_X64,
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def requirement_of(wheel: str) -> str:
    """`name==version` from a wheel's file name (the spec's first two fields)."""
    name, version = wheel.split("-")[:2]
    return f"{name}=={version}"


def read_lock(path: Path | None = None) -> dict[str, dict[str, str]]:
    """platform -> {wheel file name: sha256}."""
    path = path or LOCK
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run `python build.py --lock` to create it")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {plat: {name: h.removeprefix("sha256:") for name, h in files.items()} for plat, files in data.items()}


def write_lock(locks: dict[str, dict[str, str]], path: Path | None = None) -> None:
    path = path or LOCK
    lines = [
        "# The wheels bundled in each platform's extension zip, with their sha256 (build_wheels.py).",
        "# Regenerate with `python build.py --lock`; `python build.py` downloads and verifies every file.",
    ]
    for plat in sorted(locks):
        lines += ["", f"[{plat}]"]
        lines += [f'"{name}" = "sha256:{h}"' for name, h in sorted(locks[plat].items())]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


def pip_download(requirements: list[str], platform: str, dest: Path) -> None:
    """pip download of exactly these wheels (no dependency resolution: the lists above are complete)."""
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps"]
    cmd += ["--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp", "--dest", str(dest)]
    for tag in PLATFORMS[platform]:
        cmd += ["--platform", tag]
    proc = subprocess.run(cmd + requirements, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"pip download for {platform} failed:\n{proc.stdout}{proc.stderr}")


def lock(platforms: list[str]) -> dict[str, dict[str, str]]:
    """Download REQUIREMENTS for each platform and rewrite their entries in the lock (others kept)."""
    locks = read_lock() if LOCK.is_file() else {}
    CACHE.mkdir(parents=True, exist_ok=True)
    for plat in platforms:
        with tempfile.TemporaryDirectory(prefix="uplift_lock_") as tmp:
            pip_download(list(REQUIREMENTS[plat]), plat, Path(tmp))
            files = sorted(Path(tmp).glob("*.whl"))
            locks[plat] = {f.name: sha256(f) for f in files}
            for f in files:
                shutil.copy2(f, CACHE / f.name)
    write_lock(locks)
    return locks


def fetch(platform: str, locks: dict[str, dict[str, str]] | None = None) -> list[Path]:
    """The locked wheels of a platform, from the cache or pip, each checked against its sha256."""
    locks = read_lock() if locks is None else locks
    if platform not in locks:
        raise SystemExit(f"wheels.lock has no [{platform}]: run `python build.py --lock --platform {platform}`")
    CACHE.mkdir(parents=True, exist_ok=True)
    wanted = locks[platform]
    missing = [name for name, h in wanted.items() if not (CACHE / name).is_file() or sha256(CACHE / name) != h]
    if missing:
        with tempfile.TemporaryDirectory(prefix="uplift_fetch_") as tmp:
            pip_download([requirement_of(n) for n in missing], platform, Path(tmp))
            for name in missing:
                got = Path(tmp) / name
                if not got.is_file():
                    found = ", ".join(p.name for p in Path(tmp).glob("*.whl"))
                    raise SystemExit(f"pip did not fetch the locked {name} for {platform} (got: {found})")
                shutil.move(got, CACHE / name)
    paths = []
    for name, h in sorted(wanted.items()):
        path = CACHE / name
        if (actual := sha256(path)) != h:
            raise SystemExit(f"{name}: sha256 {actual} does not match wheels.lock ({h}); refusing to bundle it")
        paths.append(path)
    return paths


# The optional GPU extra: PyTorch with CUDA (PyPI's Linux torch), which the Preferences install with pip.
# Locked with every dependency and its sha256 into addon/gpu_extra.toml (shipped), so pip runs with
# --require-hashes --no-deps. Linux only: PyPI's Windows torch is CPU-only (CUDA builds live on PyTorch's own
# index), and pip evaluates dependency markers for the machine it runs on, so this lock is made on Linux.
# Elsewhere the bundled ONNX Runtime (CPU, ~0.4 ms per frame) is the backend.
GPU_EXTRA = ("torch==2.13.0", "safetensors==0.4.5")
GPU_PLATFORMS = ("linux-x64",)
GPU_LOCK = REPO / "addon" / "gpu_extra.toml"


def lock_gpu() -> dict[str, list[str]]:
    """Resolve GPU_EXTRA for each GPU platform from PyPI's metadata (pip's dry-run report: no wheel is
    downloaded) and write addon/gpu_extra.toml: `name==version --hash=sha256:...` per package."""
    import json

    if sys.platform != "linux":
        raise SystemExit("lock the GPU extra on Linux: pip evaluates torch's dependency markers for this machine")
    out: dict[str, list[str]] = {}
    for plat in GPU_PLATFORMS:
        with tempfile.TemporaryDirectory(prefix="uplift_gpu_") as tmp:
            report = Path(tmp) / "report.json"
            cmd = [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed", "-q"]
            cmd += ["--target", str(Path(tmp) / "t"), "--only-binary=:all:", "--python-version", PYTHON]
            cmd += ["--implementation", "cp", "--report", str(report)]
            for tag in PLATFORMS[plat]:
                cmd += ["--platform", tag]
            proc = subprocess.run(cmd + list(GPU_EXTRA), capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(f"resolving the GPU extra for {plat} failed:\n{proc.stdout}{proc.stderr}")
            items = json.loads(report.read_text())["install"]
        out[plat] = sorted(
            f"{i['metadata']['name'].lower()}=={i['metadata']['version']} "
            f"--hash=sha256:{i['download_info']['archive_info']['hashes']['sha256']}"
            for i in items
        )
    lines = [
        "# The optional GPU extra (PyTorch) that Preferences > Add-ons > Uplift Mocap installs with pip",
        "# (--require-hashes --no-deps: every package and its sha256). Regenerate: python build.py --lock-gpu",
    ]
    for plat, reqs in out.items():
        lines += ["", f"[{plat}]", "requirements = ["] + [f'  "{r}",' for r in reqs] + ["]"]
    tmp = GPU_LOCK.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(GPU_LOCK)
    return out
