"""The GPU-extra installer: real pip, hash-checked, offline from a folder of wheels, into a private target folder;
and the status of the bundled dependencies."""

from __future__ import annotations

import base64
import hashlib
import importlib
import re
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
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n".encode()
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: uplift-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
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


def pinned(wheel: Path) -> str:
    return f"uplift-probe-pkg==0.1 --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"


def test_offline_install_from_wheel_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = make_wheel(wheels)
    target = tmp_path / "ext" / "site-packages"
    job = deps.InstallJob(target=target, requirements=[pinned(wheel)], wheel_dir=wheels, online=False)
    try:
        assert job.run() == 0, "\n".join(job.lines)
        assert (target / "uplift_probe_pkg" / "__init__.py").is_file()
        assert str(target) in sys.path  # activated after a successful install
        assert importlib.import_module("uplift_probe_pkg").VALUE == 42
        assert not (target / "numpy").exists()  # --no-deps: Blender's numpy is never replaced
        assert sys.path.index(str(target)) > 0  # appended: Blender's own packages keep priority
    finally:
        deps.deactivate(target)
        sys.modules.pop("uplift_probe_pkg", None)


def test_a_wheel_whose_hash_differs_is_refused(tmp_path: Path) -> None:
    """The pins are enforced by pip itself: the same name and version with other bytes is not installed."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = make_wheel(wheels)
    good = pinned(wheel)
    make_wheel(wheels, version="0.1").write_bytes(wheel.read_bytes() + b"\0")  # same file name, other bytes
    target = tmp_path / "site"
    job = deps.InstallJob(target=target, requirements=[good], wheel_dir=wheels)
    assert job.run() != 0
    assert "hash" in "\n".join(job.lines).lower()
    assert not (target / "uplift_probe_pkg").exists() and str(target) not in sys.path


def test_threaded_install_reports_pip_failure(tmp_path: Path) -> None:
    """A requirement the folder does not hold: pip fails, the job says so and nothing is activated."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    target = tmp_path / "site"
    job = deps.InstallJob(
        target=target, requirements=["uplift-not-there==9.9 --hash=sha256:" + "0" * 64], wheel_dir=wheels
    )
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


def test_pip_command_is_hash_checked_and_targeted(tmp_path: Path) -> None:
    cmd = deps.pip_command(tmp_path, tmp_path / "reqs.txt", wheel_dir=tmp_path / "w")
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[cmd.index("--target") + 1] == str(tmp_path)
    assert {"--no-index", "--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(cmd)
    assert cmd[-2:] == ["--requirement", str(tmp_path / "reqs.txt")]


def test_gpu_extra_is_torch_with_every_dependency_hash_pinned() -> None:
    """The shipped lock (addon/gpu_extra.toml): torch and the repo's safetensors pin, each package once with
    its sha256; numpy never (Blender's own)."""
    reqs = deps.gpu_requirements("linux-x64")
    names = {}
    for line in reqs:
        spec, flag = line.split(" --hash=sha256:")
        name, ver = spec.split("==")
        assert re.fullmatch(r"[0-9a-f]{64}", flag) and ver, line
        names[name] = ver
    assert len(names) == len(reqs)
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, ver = line.split("==")
            pins[name.strip().lower()] = ver.strip()
    assert names["torch"] == pins["torch"] and names["safetensors"] == pins["safetensors"]
    assert any(n.startswith("nvidia-") for n in names), "PyPI's Linux torch brings CUDA"
    assert "numpy" not in names
    assert deps.gpu_requirements("windows-x64") == []  # PyPI's Windows torch is CPU-only: no extra offered


def test_no_gpu_extra_for_a_platform_refuses_with_a_reason(tmp_path: Path) -> None:
    job = deps.InstallJob(target=tmp_path / "t", requirements=[], online=True)
    with pytest.raises(RuntimeError, match="no GPU extra"):
        job.check()


def test_status_lists_what_this_python_has() -> None:
    found = {s.name: s for s in deps.status()}
    assert found["numpy"].version is not None and found["mediapipe"].version is not None
    assert found["torch"].version is not None  # the test venv has the full stack
    assert "cpu" in deps.torch_devices()
    assert deps.missing() == []  # PyAV here; one decoder is enough
    assert deps.blender_platform() in {"linux-x64", "windows-x64", "macos-arm64", "macos-x64", "linux-arm64"}
