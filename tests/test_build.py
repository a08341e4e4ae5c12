"""build.py makes a zip that Blender's own validator accepts, and that installs, enables and captures headless.

Each Blender session runs in a subprocess with BLENDER_USER_RESOURCES in a temp folder, so installing the
extension never touches the developer's own Blender configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import build  # noqa: E402

BPY45 = REPO / ".venv" / "bpy45"
BPY42 = REPO / ".venv" / "bpy42"  # the manifest's blender_version_min

INSTALL_SCRIPT = r"""
import json, sys
import bpy
zip_path, video, out = sys.argv[-3:]
res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
pkg = "bl_ext.user_default.uplift_mocap"
info = {"install": sorted(res), "enabled": pkg in bpy.context.preferences.addons,
        "operator": hasattr(bpy.ops.uplift, "capture_video"), "version": bpy.app.version_string}
mod = sys.modules[pkg]
info["file"] = mod.__file__
info["prefs_device"] = bpy.context.preferences.addons[pkg].preferences.device
if video:
    bpy.context.scene.render.fps = 30  # the clip's rate: one key per scene frame
    before = set(bpy.data.objects.keys())
    r = bpy.ops.uplift.capture_video(filepath=video, stride=20)
    new = [o for o in bpy.data.objects if o.name not in before]
    arm = [o for o in new if o.type == "ARMATURE"]
    info["capture"] = sorted(r)
    info["armatures"] = len(arm)
    act = arm[0].animation_data.action if arm and arm[0].animation_data else None
    info["action"] = act.name if act else None
    info["frame_range"] = list(act.frame_range) if act else None
json.dump(info, open(out, "w"))
"""


def run_blender_script(tmp: Path, script: str, *args: str, bpy_path: Path | None = None) -> dict:
    (tmp / "user").mkdir(exist_ok=True)
    path = tmp / "script.py"
    path.write_text(script)
    out = tmp / "out.json"
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp / "user"))
    if bpy_path is not None:
        env["PYTHONPATH"] = str(bpy_path)
    proc = subprocess.run(
        [sys.executable, str(path), *args, str(out)], capture_output=True, text=True, env=env, cwd=tmp, timeout=600
    )
    assert proc.returncode == 0 and out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--output-dir", str(out)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zips = list(out.glob("uplift_mocap-*.zip"))
    assert len(zips) == 1
    return zips[0]


def test_zip_layout_and_blender_validator(built_zip: Path) -> None:
    names = set(zipfile.ZipFile(built_zip).namelist())
    for required in (
        "blender_manifest.toml",
        "__init__.py",
        "addon/operators.py",
        "addon/_pkgs.py",
        "addon/gpu_extra.toml",
        "addon/batch.py",
        "inference/__init__.py",
        "inference/pipeline.py",
        "inference/video/reader.py",
        "inference/weights/uplift_compact.safetensors",
        "inference/weights/uplift_compact.onnx",
        "retarget/__init__.py",
        "retarget/bpy_keys.py",
    ):
        assert required in names, required
    assert not any("__pycache__" in n or n.endswith((".pyc", ".npz", ".pt")) for n in names)
    assert not any(n.startswith("inference/training/") or n.endswith("preview.py") for n in names), (
        "the training side and developer tools are not shipped"
    )
    check = build.validate(built_zip)
    assert check.returncode == 0, check.stdout + check.stderr


def test_validator_rejects_a_broken_manifest(tmp_path: Path, built_zip: Path) -> None:
    """The validation step is real: the same tool refuses a manifest with a bad licence/permission field."""
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(built_zip) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "blender_manifest.toml":
                data = data.replace(b"[permissions]", b'[permissions]\nspying = "everything"')
            dst.writestr(item, data)
    check = build.validate(bad)
    assert check.returncode != 0


def test_install_enable_in_blender_4_5(tmp_path: Path, built_zip: Path) -> None:
    if not (BPY45 / "bpy").is_dir():
        pytest.skip("bpy 4.5 not installed (setup.sh installs it into .venv/bpy45)")
    info = run_blender_script(tmp_path, INSTALL_SCRIPT, str(built_zip), "", bpy_path=BPY45)
    assert info["version"].startswith("4.5")
    assert info["install"] == ["FINISHED"] and info["enabled"] and info["operator"]
    assert info["file"].startswith(str(tmp_path / "user"))
    assert info["prefs_device"] == "AUTO"


def test_install_enable_in_blender_4_2(tmp_path: Path, built_zip: Path) -> None:
    """The oldest Blender the manifest allows takes the zip too (a capture on 4.2: test_blender45.py)."""
    if not (BPY42 / "bpy").is_dir():
        pytest.fail("bpy 4.2 is missing: run ./setup.sh (it installs bpy==4.2.0 into .venv/bpy42)")
    info = run_blender_script(tmp_path, INSTALL_SCRIPT, str(built_zip), "", bpy_path=BPY42)
    assert info["version"].startswith("4.2")
    assert info["install"] == ["FINISHED"] and info["enabled"] and info["operator"]
    assert info["file"].startswith(str(tmp_path / "user"))


@pytest.mark.slow
def test_install_enable_and_capture_headless(tmp_path: Path, built_zip: Path, videos_dir: Path) -> None:
    """The zip a user downloads: install, enable, capture a real clip with the extension's own code."""
    video = videos_dir / "02_dance_tfjs_576x576.mp4"
    info = run_blender_script(tmp_path, INSTALL_SCRIPT, str(built_zip), str(video))
    assert info["install"] == ["FINISHED"] and info["enabled"] and info["operator"]
    assert info["file"].startswith(str(tmp_path / "user")), "must run the installed copy, not the checkout"
    assert info["capture"] == ["FINISHED"]
    assert info["armatures"] == 1 and info["action"]
    lo, hi = info["frame_range"]
    assert hi - lo + 1 == 120  # every frame of the clip is keyed
