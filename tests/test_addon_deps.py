"""The dependency installer: real pip, offline from a folder of wheels, into a private target folder."""

from __future__ import annotations

import base64
import hashlib
import importlib
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from addon import deps  # noqa: E402


def make_wheel(folder: Path, name: str = "uplift_probe_pkg", version: str = "0.1") -> Path:
    """A minimal valid pure-Python wheel (PEP 427), so the test needs no network and no build tool."""
    files = {
        f"{name}/__init__.py": b"VALUE = 42\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n".encode(),
        f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: uplift-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_name = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    lines.append(f"{record_name},,")
    files[record_name] = ("\n".join(lines) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


def test_offline_install_from_wheel_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    target = tmp_path / "ext" / "site-packages"
    job = deps.InstallJob(target=target, requirements=["uplift-probe-pkg==0.1"], wheel_dir=wheels, online=False)
    try:
        assert job.run() == 0, "\n".join(job.lines)
        assert (target / "uplift_probe_pkg" / "__init__.py").is_file()
        assert str(target) in sys.path  # activated after a successful install
        assert importlib.import_module("uplift_probe_pkg").VALUE == 42
        constraints = (target.parent / "uplift_constraints.txt").read_text()
        assert constraints.startswith("numpy==")  # Blender's numpy is pinned, never replaced
        assert sys.path.index(str(target)) > 0  # appended: Blender's own packages keep priority
    finally:
        deps.deactivate(target)
        sys.modules.pop("uplift_probe_pkg", None)


def test_threaded_install_reports_pip_failure(tmp_path: Path) -> None:
    """A requirement the folder does not hold: pip fails, the job says so and nothing is activated."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    target = tmp_path / "site"
    job = deps.InstallJob(target=target, requirements=["uplift-not-there==9.9"], wheel_dir=wheels)
    job.start()
    job._thread.join(120)  # type: ignore[union-attr]
    assert job.done and job.returncode not in (0, None)
    assert job.error.startswith("pip failed") and "uplift-not-there" in job.error
    assert str(target) not in sys.path


def test_offline_without_wheels_refuses_before_running(tmp_path: Path) -> None:
    job = deps.InstallJob(target=tmp_path / "t", online=False)
    with pytest.raises(PermissionError, match="Allow Online Access"):
        job.start()
    with pytest.raises(FileNotFoundError):
        deps.InstallJob(target=tmp_path / "t", wheel_dir=tmp_path / "nope").check()
    assert not (tmp_path / "t").exists()


def test_pip_command_is_pinned_and_targeted(tmp_path: Path) -> None:
    cmd = deps.pip_command(tmp_path, wheel_dir=tmp_path / "w")
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[cmd.index("--target") + 1] == str(tmp_path)
    assert "--no-index" in cmd
    reqs = [c for c in cmd if "==" in c]
    assert {r.split("==")[0] for r in reqs} >= {"torch", "mediapipe", "opencv-contrib-python"}
    assert all(r.split("==")[1] for r in reqs)  # every dependency pinned


def test_requirements_match_the_repo_pins() -> None:
    """The versions users get are the versions CI tests (requirements.txt)."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, ver = line.split("==")
            pins[name.strip().lower()] = ver.strip()
    for req in deps.REQUIREMENTS:
        name, ver = req.split("==")
        assert pins.get(name) == ver, f"{req} differs from requirements.txt ({pins.get(name)})"


def test_status_lists_what_this_python_has() -> None:
    found = {s.name: s for s in deps.status()}
    assert found["numpy"].version is not None
    assert found["torch"].version is not None  # the test venv has the full stack
    assert "cpu" in deps.torch_devices()
    assert deps.missing() == []
