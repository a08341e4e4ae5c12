"""The four platform zips: built, accepted by Blender's validator, and holding exactly the locked wheels for their
platform and Blender's Python, as Blender's own extension tool reads wheel tags.

The first run downloads the locked wheels (~0.5 GB, needs PyPI) into ~/.cache/uplift-mocap/wheels (or
$UPLIFT_WHEEL_CACHE); later runs find them there and only re-check their sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import build  # noqa: E402
import build_wheels  # noqa: E402


def blender_ext():
    """Blender's extension tool as a module, for its own wheel-tag functions."""
    cli, _ = build.find_blender_ext()
    spec = importlib.util.spec_from_file_location("blender_ext", cli)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    return {plat: build.build(out, plat) for plat in build_wheels.PLATFORMS}


def test_lock_matches_the_requirements() -> None:
    """wheels.lock pins exactly REQUIREMENTS for every platform: one wheel per pinned name==version."""
    locks = build_wheels.read_lock()
    assert set(locks) == set(build_wheels.PLATFORMS)
    for plat, files in locks.items():
        locked = sorted(norm(build_wheels.requirement_of(f)) for f in files)
        assert locked == sorted(norm(r) for r in build_wheels.REQUIREMENTS[plat]), plat
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in files.values())
    for reqs in build_wheels.REQUIREMENTS.values():
        names = {norm(r.split("==")[0]) for r in reqs}
        assert not names & {"numpy", "torch", "opencv-contrib-python"}, "Blender ships numpy; torch is the extra"


def test_bundled_versions_are_the_tested_ones() -> None:
    """Linux, Windows and Apple Silicon bundle the versions the test venv runs (requirements.txt)."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if "==" in (line := line.split("#")[0].strip()):
            name, ver = line.split("==")
            pins[norm(name)] = ver
    for plat in ("linux-x64", "windows-x64", "macos-arm64"):
        for req in build_wheels.REQUIREMENTS[plat]:
            name, ver = req.split("==")
            assert pins.get(norm(name)) == ver, f"{plat}: {req} is not requirements.txt's {pins.get(norm(name))}"


@pytest.mark.slow
def test_every_platform_zip_has_its_wheels(zips: dict[str, Path]) -> None:
    ext = blender_ext()
    locks = build_wheels.read_lock()
    for plat, path in zips.items():
        assert path.name == f"uplift_mocap-0.1.0-{plat.replace('-', '_')}.zip"
        check = build.validate(path)
        assert check.returncode == 0, check.stdout + check.stderr
        with zipfile.ZipFile(path) as z:
            manifest = tomllib.loads(z.read("blender_manifest.toml").decode())
            in_zip = {Path(n).name: z.read(n) for n in z.namelist() if n.startswith("wheels/")}
            assert "inference/weights/uplift_compact.onnx" in z.namelist()
        assert manifest["platforms"] == [plat]
        assert sorted(manifest["wheels"]) == sorted(f"./wheels/{n}" for n in in_zip)
        assert set(in_zip) == set(locks[plat]), plat
        for name, data in in_zip.items():
            assert hashlib.sha256(data).hexdigest() == locks[plat][name], name
            assert ext.blender_platform_compatible_with_wheel_platform_from_filepath(plat, name), (plat, name)
            versions = ext.python_versions_from_wheel(name)
            assert (3, 11) in versions or (3,) in versions, (name, versions)
        native = [n for n in in_zip if not n.endswith("-none-any.whl")]
        assert native, f"{plat}: no platform wheels at all"
        others = set(build_wheels.PLATFORMS) - {plat}
        for name in native:  # a native wheel is for this platform only (universal2 covers both macOS)
            fits = {p for p in others if ext.blender_platform_compatible_with_wheel_platform_from_filepath(p, name)}
            assert fits <= {"macos-x64", "macos-arm64"} - {plat} and (not fits or "universal2" in name), name


def test_fetch_refuses_a_wheel_whose_hash_differs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is enforced: a file that pip returns (or the cache holds) with another sha256 is not bundled."""
    monkeypatch.setattr(build_wheels, "CACHE", tmp_path / "cache")
    name = next(n for n in build_wheels.read_lock()["macos-x64"] if n.startswith("cycler-"))  # 8 kB from PyPI
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / name).write_bytes(b"not the locked wheel")
    good = {"macos-x64": {name: build_wheels.read_lock()["macos-x64"][name]}}
    assert build_wheels.fetch("macos-x64", good) == [tmp_path / "cache" / name], "a bad cached file is replaced"
    with pytest.raises(SystemExit, match="does not match wheels.lock"):
        build_wheels.fetch("macos-x64", {"macos-x64": {name: "0" * 64}})
