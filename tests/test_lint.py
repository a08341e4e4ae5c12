"""Style and architecture are checked like behaviour: ruff (lint + format) and the import-linter contracts
in pyproject.toml (bpy only in addon/ and retarget/bpy_keys.py; retarget never imports inference; nothing in
the add-on imports the training side)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / cmd[0]
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run ./setup.sh (requirements.txt pins it)")
    return subprocess.run([str(exe), *cmd[1:]], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_lint() -> None:
    proc = _run("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    proc = _run("ruff", "format", "--check", ".")
    assert proc.returncode == 0, "run `.venv/bin/ruff format .`\n" + proc.stdout + proc.stderr


def test_import_contracts() -> None:
    proc = _run("lint-imports", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" in proc.stdout and " 0 broken" in proc.stdout
