#!/usr/bin/env python3
"""Builds the Blender extension zips, one per platform with its wheels, and checks each with Blender's own tool.

    python build.py                         # this machine's platform -> dist/uplift_mocap-<version>-linux_x64.zip
    python build.py --platform all          # linux-x64, windows-x64, macos-arm64, macos-x64
    python build.py --platform macos-arm64 --output-dir D
    python build.py --lock [--platform P]   # re-resolve the pinned wheels and rewrite wheels.lock
    python build.py --lock-gpu              # re-resolve the optional GPU extra into addon/gpu_extra.toml

Layout of the zip (what Blender installs as the package `bl_ext.<repo>.uplift_mocap`): the checkout's own
    blender_manifest.toml, __init__.py (two lines: forwards register/unregister to addon/)
    addon/  inference/ (with weights/, without training/)  retarget/
so the add-on finds its siblings the same way in both (addon/_pkgs.py).
The build and the validation are done by `blender_ext.py` from the bpy module (the same code as
`blender --command extension build/validate`), with Blender's list of valid tags. Each zip bundles the
wheels wheels.lock pins for its platform (build_wheels.py: MediaPipe, ONNX Runtime, PyAV), verified
by sha256, listed in the staged manifest's `wheels` with `platforms = [<platform>]`: Blender installs them
from the zip, no pip and no network. torch is not bundled (the optional GPU extra, addon/deps.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform as host
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import build_wheels

REPO = Path(__file__).resolve().parent
PACKAGES = ("addon", "inference", "retarget")
# never shipped: caches, training outputs, pickles (the shipped weights are safetensors), the training side
# of inference/, and developer-only add-on modules that need a repo checkout (matplotlib preview, the
# rendered-humans data tool)
NOT_SHIPPED = (
    "__pycache__",
    "*.pyc",
    "*.npz",
    "*.pt",
    "*.pth",
    "*.ckpt",
    "runs",
    ".*",
    "training",
    "preview.py",
    "render_humans.py",
    "render_scene.py",
)
IGNORE = shutil.ignore_patterns(*NOT_SHIPPED)
ROOT_INIT = '''"""Uplift Mocap (Blender extension): the add-on is addon/, inference/ and retarget/ its pure packages."""
from .addon import register, unregister  # noqa: F401
'''


def find_blender_ext() -> tuple[Path, Path]:
    """blender_ext.py and Blender's tags.py from the installed bpy module (no Blender binary needed)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("build.py needs the bpy module (pip install bpy) to build and validate the zip")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"blender_ext.py not found under {root}")
    cli = found[-1]
    tags = cli.parents[3] / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    return cli, tags


def host_platform() -> str:
    """Blender's name for this machine's platform (the default --platform)."""
    system = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(host.system(), "")
    arch = {"x86_64": "x64", "AMD64": "x64", "arm64": "arm64", "aarch64": "arm64"}.get(host.machine(), "")
    name = f"{system}-{arch}"
    if name not in build_wheels.PLATFORMS:
        raise SystemExit(f"no wheels for this machine ({host.system()} {host.machine()}): pass --platform")
    return name


def platform_manifest(text: str, platform: str, wheels: list[str]) -> str:
    """The manifest with `platforms` and `wheels` added as top-level keys (before the first table)."""
    keys = f'platforms = ["{platform}"]\nwheels = [\n' + "".join(f'  "./wheels/{w}",\n' for w in wheels) + "]\n\n"
    lines = text.splitlines(keepends=True)
    first_table = next(i for i, line in enumerate(lines) if line.startswith("["))
    return "".join(lines[:first_table]) + keys + "".join(lines[first_table:])


def stage(dest: Path, platform: str, wheels: list[Path]) -> Path:
    """Copy the manifest (with this platform's wheels), the three packages, the root module and the wheels
    into `dest` in the checkout's layout."""
    dest.mkdir(parents=True, exist_ok=True)
    manifest = (REPO / "blender_manifest.toml").read_text(encoding="utf-8")
    manifest = platform_manifest(manifest, platform, [w.name for w in wheels])
    (dest / "blender_manifest.toml").write_text(manifest, encoding="utf-8")
    (dest / "__init__.py").write_text(ROOT_INIT, encoding="utf-8")
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, dest / pkg, ignore=IGNORE)
    (dest / "wheels").mkdir()
    for wheel in wheels:
        shutil.copy2(wheel, dest / "wheels" / wheel.name)
    return dest


def run_ext(cli: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(cli), *args], capture_output=True, text=True)


def zip_name(platform: str) -> str:
    """Blender's own naming for a platform's zip (as `extension build --split-platforms` writes it)."""
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    return f"{manifest['id']}-{manifest['version']}-{platform.replace('-', '_')}.zip"


def build(output_dir: Path, platform: str) -> Path:
    """One platform's zip, with its locked wheels (downloaded and hash-checked first), validated."""
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    wheels = build_wheels.fetch(platform)
    cli, tags = find_blender_ext()
    output_dir.mkdir(parents=True, exist_ok=True)
    zip_path = output_dir / zip_name(platform)
    partial = zip_path.with_name(zip_path.name + ".partial.zip")  # the finished zip replaces any old one at once
    with tempfile.TemporaryDirectory(prefix="uplift_build_") as tmp:
        src = stage(Path(tmp) / manifest["id"], platform, wheels)
        proc = run_ext(
            cli, "build", "--source-dir", str(src), "--output-filepath", str(partial), "--valid-tags", str(tags)
        )
        if proc.returncode != 0 or not partial.is_file():
            partial.unlink(missing_ok=True)
            raise SystemExit(f"Blender's extension build failed:\n{proc.stdout}{proc.stderr}")
    check = validate(partial)
    if check.returncode != 0:
        partial.unlink(missing_ok=True)
        raise SystemExit(f"Blender's extension validator rejected {zip_path.name}:\n{check.stdout}{check.stderr}")
    partial.replace(zip_path)
    return zip_path


def validate(zip_path: Path) -> subprocess.CompletedProcess[str]:
    cli, tags = find_blender_ext()
    return run_ext(cli, "validate", "--valid-tags", str(tags), str(zip_path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output-dir", type=Path, default=REPO / "dist")
    ap.add_argument(
        "--platform",
        choices=[*build_wheels.PLATFORMS, "all"],
        help="Blender platform of the zip (default: this machine's), or all four",
    )
    ap.add_argument("--lock", action="store_true", help="re-resolve the pinned wheels into wheels.lock, no build")
    ap.add_argument("--lock-gpu", action="store_true", help="re-resolve the GPU extra into addon/gpu_extra.toml")
    args = ap.parse_args(argv)
    if args.lock_gpu:
        for plat, reqs in build_wheels.lock_gpu().items():
            print(f"locked the GPU extra for {plat}: {len(reqs)} packages")
        return 0
    if args.platform == "all":
        platforms = list(build_wheels.PLATFORMS)
    else:
        platforms = [args.platform or host_platform()]
    if args.lock:
        locks = build_wheels.lock(platforms)
        for plat in platforms:
            print(f"locked {len(locks[plat])} wheels for {plat}")
        return 0
    for plat in platforms:
        zip_path = build(args.output_dir, plat)
        size = zip_path.stat().st_size / 1e6
        print(f"built and validated {zip_path} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
