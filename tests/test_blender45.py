"""Blender 4.5 LTS: the key-writing, add-on and end-to-end tests again, in a subprocess on bpy 4.5.4.

4.5 has slotted actions with `action.fcurves` still present; 5.0 removed it. setup.sh installs bpy 4.5.4
into .venv/bpy45 beside the bpy 5.0.1 of the venv; PYTHONPATH puts it first. The bpy 4.5 module can hang
in its own teardown at interpreter exit, so the child leaves with os._exit once pytest has reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BPY45 = REPO / ".venv" / "bpy45"
FILES = ["tests/test_bpy_keys.py", "tests/test_addon.py", "tests/test_bonemap_ui.py", "tests/test_e2e.py"]
CHILD = (
    "import os, sys, pytest\n"
    "rc = pytest.main(['-q', '-p', 'no:cacheprovider', *sys.argv[1:]])\n"
    "sys.stdout.flush(); sys.stderr.flush(); os._exit(int(rc))\n"
)


@pytest.mark.slow
def test_suite_passes_on_blender_4_5() -> None:
    if not (BPY45 / "bpy").is_dir():
        pytest.fail("bpy 4.5 is missing: run ./setup.sh (it installs bpy==4.5.4 into .venv/bpy45)")
    env = dict(os.environ, PYTHONPATH=str(BPY45), UPLIFT_EXPECT_BPY="4.5")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *FILES], cwd=REPO, env=env, capture_output=True, text=True, timeout=1500
    )
    out = "\n".join(line for line in proc.stdout.splitlines() if "leak detector" not in line)
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-2000:]
    assert " passed" in out and " failed" not in out and "error" not in out.splitlines()[-1]
