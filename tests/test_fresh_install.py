"""A new user's first capture: a fresh venv holding only bpy, the linux-x64 zip installed through Blender's
extension API, a real clip captured headless onto a new armature, with no network and no pip.

The venv is made here from the base interpreter (`pip install bpy==...`: the user's Blender) and nothing else:
no torch, MediaPipe, OpenCV, PyAV, ONNX Runtime or SciPy, so everything the capture imports must come from the
wheels the zip bundles. Inside Blender, sockets refuse to connect and any subprocess is recorded, so a
download or a pip call fails the test. Each Blender runs with BLENDER_USER_RESOURCES in a temp folder.
Cost: ~15 s per venv (bpy from pip's cache or PyPI) plus ~15 s per capture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import build  # noqa: E402

BUNDLED = ("mediapipe", "onnxruntime", "av", "scipy")
NOT_THERE = ("torch", "cv2", "mediapipe", "av", "onnxruntime", "scipy", "safetensors", "matplotlib")
FRAMES = 30

SCRIPT = r"""
import importlib.util, json, socket, subprocess, sys
zip_path, video, frames, out = sys.argv[-4:]
info = {"python": list(sys.version_info[:2]), "preinstalled": [m for m in NOT_THERE if importlib.util.find_spec(m)]}

def no_network(*args, **kwargs):
    raise OSError("the capture must not touch the network")

socket.socket.connect = socket.socket.connect_ex = no_network
socket.create_connection = socket.getaddrinfo = no_network
spawned = []
_popen_init = subprocess.Popen.__init__

def record(self, args, *a, **kw):
    spawned.append([str(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)])
    return _popen_init(self, args, *a, **kw)

subprocess.Popen.__init__ = record
sys.modules["pip"] = None  # `import pip` fails

import bpy
info["version"] = bpy.app.version_string
bpy.context.preferences.system.use_online_access = False
res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
pkg = "bl_ext.user_default.uplift_mocap"
info["install"] = sorted(res)
info["enabled"] = pkg in bpy.context.preferences.addons
scene = bpy.context.scene
scene.render.fps = 30  # the clip's rate: one key per scene frame
before = set(bpy.data.objects.keys())
r = bpy.ops.uplift.capture_video(filepath=video, stride=10, use_frame_range=True, frame_start=0,
                                 frame_end=int(frames) - 1)
info["capture"] = sorted(r)
arms = [o for o in bpy.data.objects if o.name not in before and o.type == "ARMATURE"]
info["armatures"] = len(arms)
keys = {}
if arms:
    ad = arms[0].animation_data
    act = ad.action
    if len(getattr(act, "layers", ())) == 0:
        fcurves = list(act.fcurves)
    else:
        fcurves = [fc for layer in act.layers for strip in layer.strips
                   for fc in strip.channelbag(ad.action_slot).fcurves]
    for fc in fcurves:
        if fc.data_path.endswith("rotation_quaternion") and len(fc.keyframe_points) > 1:
            keys[f"{fc.data_path}[{fc.array_index}]"] = [round(k.co.x, 3) for k in fc.keyframe_points]
info["keys"] = keys
user = bpy.utils.resource_path("USER")
info["modules"] = {m: getattr(sys.modules.get(m), "__file__", None) for m in BUNDLED}
info["torch_imported"] = "torch" in sys.modules
info["spawned"] = spawned
info["user"] = user
json.dump(info, open(out, "w"))
sys.stdout.flush()
import os
os._exit(0)  # older bpy modules can hang in their own teardown at exit
"""


def fresh_venv(where: Path, pin: str) -> tuple[Path, float]:
    """A venv from the base interpreter with only `pin` (bpy and its own deps) installed; seconds taken."""
    t0 = time.perf_counter()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(where)], check=True, capture_output=True, timeout=300)
    py = where / "bin" / "python"
    proc = subprocess.run(
        [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", pin],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return py, time.perf_counter() - t0


@pytest.fixture(scope="module")
def linux_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build.build(tmp_path_factory.mktemp("dist"), "linux-x64")


@pytest.mark.slow
@pytest.mark.parametrize("pin", ["bpy==5.0.1", "bpy==4.5.4"])
def test_fresh_blender_installs_zip_and_captures_offline(
    tmp_path: Path, linux_zip: Path, videos_dir: Path, pin: str
) -> None:
    if sys.platform != "linux":
        pytest.skip("the linux-x64 zip is installed on Linux")
    py, venv_s = fresh_venv(tmp_path / "venv", pin)
    (tmp_path / "user").mkdir()
    script = tmp_path / "first_capture.py"
    script.write_text(f"NOT_THERE = {NOT_THERE!r}\nBUNDLED = {BUNDLED!r}\n" + SCRIPT)
    out = tmp_path / "out.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["BLENDER_USER_RESOURCES"] = str(tmp_path / "user")
    video = videos_dir / "02_dance_tfjs_576x576.mp4"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(py), str(script), str(linux_zip), str(video), str(FRAMES), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    run_s = time.perf_counter() - t0
    print(f"{pin}: fresh venv {venv_s:.1f} s, install + capture {run_s:.1f} s")
    assert proc.returncode == 0 and out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    info = json.loads(out.read_text())
    assert info["version"].startswith(pin.split("==")[1][:3])
    assert info["python"] == [3, 11], "Blender 4.2-5.0 run Python 3.11: the bundled wheels are built for it"
    assert info["preinstalled"] == [], "the fresh venv must not have the capture's dependencies"
    assert info["install"] == ["FINISHED"] and info["enabled"]
    assert info["capture"] == ["FINISHED"], proc.stdout[-3000:] + proc.stderr[-3000:]
    assert info["armatures"] == 1
    for mod, path in info["modules"].items():
        assert path and path.startswith(str(tmp_path / "user")), f"{mod} must come from the zip's wheels: {path}"
    assert not info["torch_imported"]
    for cmd in info["spawned"]:  # Blender's own extension tool runs in a subprocess; pip must not
        assert not any(Path(a).name in {"pip", "pip3", "ensurepip"} for a in cmd), cmd
    keys = info["keys"]
    assert len(keys) >= 4 * 13, f"only {len(keys)} animated rotation channels"
    first = min(frames[0] for frames in keys.values())
    for channel, frames in keys.items():
        assert frames == [first + i for i in range(FRAMES)], f"{channel}: not one key on every frame"
