"""Shared fixtures. Real data lives in ../shared (never committed); tests fail loudly if it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPLIFT_SHARED", REPO.parent / "shared")).resolve()

if not SHARED.is_dir():
    raise pytest.UsageError(f"shared data not found at {SHARED}; set UPLIFT_SHARED")

# The MediaPipe bundles: tests and CI never download, they point at ../shared/models.
os.environ.setdefault("UPLIFT_POSE_MODEL", str(SHARED / "models"))

VIDEOS = sorted((SHARED / "videos").glob("*.mp4"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def videos_dir() -> Path:
    return SHARED / "videos"


@pytest.fixture(scope="session")
def mocap_dir() -> Path:
    return SHARED / "data" / "mocap"


@pytest.fixture(scope="session")
def pose_models_dir() -> Path:
    return SHARED / "models"
