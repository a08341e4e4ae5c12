"""A new user's first capture: a fresh venv holding only bpy, the linux-x64 zip installed through Blender's
extension API, a real clip captured headless onto a new armature, with no network and no pip.

The venv is made here from the base interpreter (`pip install bpy==...`: the user's Blender) and nothing else:
no torch, MediaPipe, OpenCV, PyAV, ONNX Runtime or SciPy, so everything the capture imports must come from the
wheels the zip bundles. Inside Blender, sockets refuse to connect and any subprocess is recorded, so a
download or a pip call fails the test. Each Blender runs with BLENDER_USER_RESOURCES in a temp folder.
The Intel-Mac zip's package set (older MediaPipe and ONNX Runtime, OpenCV instead of PyAV) is checked the same
way in Linux wheels. Cost: ~15-40 s per venv on the first run (bpy from PyPI; cached after), ~10 s per
install + capture, ~10 s per zip build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import build  # noqa: E402
import build_wheels  # noqa: E402

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


VENVS = Path(os.environ.get("UPLIFT_VENV_CACHE", Path.home() / ".cache" / "uplift-mocap" / "venvs"))


def fresh_venv(pin: str) -> tuple[Path, float]:
    """A venv from the base interpreter with only `pin` (bpy and its own deps); seconds taken to make it.

    Kept in ~/.cache/uplift-mocap/venvs (or $UPLIFT_VENV_CACHE) for the next run: nothing is ever installed
    into it (Blender puts the extension and its wheels in the test's BLENDER_USER_RESOURCES), and every run
    checks again that it holds none of the capture's dependencies. Delete the folder for a first-run timing.
    """
    where = VENVS / pin.replace("==", "-")
    py = where / "bin" / "python"
    if (where / "made").is_file():
        return py, 0.0
    t0 = time.perf_counter()
    shutil.rmtree(where, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(where)], check=True, capture_output=True, timeout=300)
    proc = subprocess.run(
        [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", pin],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (where / "made").write_text(pin)
    return py, time.perf_counter() - t0


def intel_mac_set_zip(out: Path) -> Path:
    """A linux-x64 zip of the Intel-Mac requirement set (older MediaPipe and ONNX Runtime, OpenCV as the
    decoder): the same versions as that zip, in Linux wheels, so the set is shown to capture here. Its hashes
    come from this download (a check of the package set, not a shipped zip)."""
    saved = build_wheels.LOCK, build_wheels.REQUIREMENTS
    try:
        build_wheels.LOCK = out / "wheels.lock"
        build_wheels.REQUIREMENTS = {"linux-x64": saved[1]["macos-x64"]}
        build_wheels.lock(["linux-x64"])
        return build.build(out / "dist", "linux-x64")
    finally:
        build_wheels.LOCK, build_wheels.REQUIREMENTS = saved


CASES = {  # case -> (Blender, which zip, the modules that must come from its wheels)
    "5.0-linux-x64": ("bpy==5.0.1", "linux-x64", ("mediapipe", "onnxruntime", "av")),
    "4.5-linux-x64": ("bpy==4.5.4", "linux-x64", ("mediapipe", "onnxruntime", "av")),
    "5.0-intel-mac-set": ("bpy==5.0.1", "intel-mac-set", ("mediapipe", "onnxruntime", "cv2")),
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, float]]:
    """Zips and venvs, made once per module on first use (the install goes to each test's own user folder,
    so a venv is never changed by a test)."""
    cache: dict[str, tuple[Path, float]] = {}

    def get(key: str) -> tuple[Path, float]:
        if key not in cache:
            where = tmp_path_factory.mktemp(re.sub(r"\W", "_", key))
            if key == "linux-x64":
                cache[key] = build.build(where, "linux-x64"), 0.0
            elif key == "intel-mac-set":
                cache[key] = intel_mac_set_zip(where), 0.0
            else:
                cache[key] = fresh_venv(key)
        return cache[key]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_fresh_blender_installs_zip_and_captures_offline(tmp_path: Path, made, videos_dir: Path, case: str) -> None:
    if sys.platform != "linux":
        pytest.skip("the linux-x64 zip is installed on Linux")
    pin, which, bundled = CASES[case]
    zip_path = made(which)[0]
    py, venv_s = made(pin)
    (tmp_path / "user").mkdir()
    script = tmp_path / "first_capture.py"
    script.write_text(f"NOT_THERE = {NOT_THERE!r}\nBUNDLED = {bundled!r}\n" + SCRIPT)
    out = tmp_path / "out.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["BLENDER_USER_RESOURCES"] = str(tmp_path / "user")
    video = videos_dir / "02_dance_tfjs_576x576.mp4"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(py), str(script), str(zip_path), str(video), str(FRAMES), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    run_s = time.perf_counter() - t0
    made_venv = f"made in {venv_s:.1f} s" if venv_s else "cached"
    print(f"{case}: venv {made_venv}, install + capture {run_s:.1f} s")
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
