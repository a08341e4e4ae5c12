"""Older Blenders: the key-writing, add-on and end-to-end tests again, in a subprocess on bpy 4.5 and 4.2.

4.5 LTS has slotted actions with `action.fcurves` still present; 5.0 removed it. 4.2 LTS (the manifest's
`blender_version_min`) has no slots at all: keys go through the legacy `action.fcurves` path of
retarget/bpy_keys.py and addon/check2d.py, which no other test reaches. setup.sh installs bpy 4.5.4 into
.venv/bpy45 and bpy 4.2.0 into .venv/bpy42 beside the bpy 5.0.1 of the venv; PYTHONPATH puts one first.
The older bpy modules can hang in their own teardown at interpreter exit, so the child leaves with
os._exit once pytest has reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLENDERS = {"4.5": (REPO / ".venv" / "bpy45", "bpy==4.5.4"), "4.2": (REPO / ".venv" / "bpy42", "bpy==4.2.0")}
FILES = [
    "tests/test_bpy_keys.py",
    "tests/test_addon.py",
    "tests/test_addon_prefs.py",
    "tests/test_addon_quality.py",
    "tests/test_bonemap_ui.py",
    "tests/test_e2e.py",
    "tests/test_fingers.py",
    "tests/test_bpy_extremities.py",
]
CHILD = (
    "import os, sys, pytest\n"
    "rc = pytest.main(['-q', '-p', 'no:cacheprovider', *sys.argv[1:]])\n"
    "sys.stdout.flush(); sys.stderr.flush(); os._exit(int(rc))\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("version", sorted(BLENDERS, reverse=True))
def test_suite_passes_on_older_blender(version: str) -> None:
    folder, pin = BLENDERS[version]
    if not (folder / "bpy").is_dir():
        pytest.fail(f"bpy {version} is missing: run ./setup.sh (it installs {pin} into {folder.relative_to(REPO)})")
    env = dict(os.environ, PYTHONPATH=str(folder), UPLIFT_EXPECT_BPY=version)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *FILES], cwd=REPO, env=env, capture_output=True, text=True, timeout=1500
    )
    out = "\n".join(line for line in proc.stdout.splitlines() if "leak detector" not in line)
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-2000:]
    assert " passed" in out and " failed" not in out and "error" not in out.splitlines()[-1]
