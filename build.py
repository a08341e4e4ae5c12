#!/usr/bin/env python3
"""Builds the Blender extension zip and checks it with Blender's own extension tool.

    python build.py                 # -> dist/uplift_mocap-<version>.zip, validated
    python build.py --output-dir D  # elsewhere

Layout of the zip (what Blender installs as the package `bl_ext.<repo>.uplift_mocap`): the checkout's own
    blender_manifest.toml, __init__.py (two lines: forwards register/unregister to addon/)
    addon/  inference/ (with weights/, without training/)  retarget/
so the add-on finds its siblings the same way in both (addon/_pkgs.py).
The build and the validation are done by `blender_ext.py` from the bpy module (the same code as
`blender --command extension build/validate`), with Blender's list of valid tags. torch, MediaPipe and
OpenCV are not bundled: see docs/blender.md ("Dependencies").
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent
PACKAGES = ("addon", "inference", "retarget")
# never shipped: caches, training outputs, pickles (the shipped weights are safetensors), the training side
# of inference/, and developer-only add-on modules that need a repo checkout (matplotlib preview)
NOT_SHIPPED = ("__pycache__", "*.pyc", "*.npz", "*.pt", "*.pth", "*.ckpt", "runs", ".*", "training", "preview.py")
IGNORE = shutil.ignore_patterns(*NOT_SHIPPED)
ROOT_INIT = '''"""Uplift Mocap (Blender extension). The add-on is addon/; inference/ and retarget/ are its pure packages."""
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


def stage(dest: Path) -> Path:
    """Copy the manifest and the three packages into `dest` in the checkout's layout, plus the root module."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "blender_manifest.toml", dest / "blender_manifest.toml")
    (dest / "__init__.py").write_text(ROOT_INIT, encoding="utf-8")
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, dest / pkg, ignore=IGNORE)
    return dest


def run_ext(cli: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(cli), *args], capture_output=True, text=True)


def build(output_dir: Path) -> Path:
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    cli, tags = find_blender_ext()
    output_dir.mkdir(parents=True, exist_ok=True)
    zip_path = output_dir / f"{manifest['id']}-{manifest['version']}.zip"
    if zip_path.exists():
        zip_path.unlink()
    with tempfile.TemporaryDirectory(prefix="uplift_build_") as tmp:
        src = stage(Path(tmp) / manifest["id"])
        proc = run_ext(
            cli, "build", "--source-dir", str(src), "--output-filepath", str(zip_path), "--valid-tags", str(tags)
        )
        if proc.returncode != 0 or not zip_path.is_file():
            raise SystemExit(f"Blender's extension build failed:\n{proc.stdout}{proc.stderr}")
    check = validate(zip_path)
    if check.returncode != 0:
        raise SystemExit(f"Blender's extension validator rejected {zip_path}:\n{check.stdout}{check.stderr}")
    return zip_path


def validate(zip_path: Path) -> subprocess.CompletedProcess[str]:
    cli, tags = find_blender_ext()
    return run_ext(cli, "validate", "--valid-tags", str(tags), str(zip_path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output-dir", type=Path, default=REPO / "dist")
    args = ap.parse_args(argv)
    zip_path = build(args.output_dir)
    size = zip_path.stat().st_size / 1e6
    print(f"built and validated {zip_path} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
