"""The add-on's one door to the two pure packages, and the name Blender knows the add-on by.

The checkout and the extension zip have the same layout: `addon/`, `inference/` and `retarget/` side by side.
In a checkout they are top-level packages; in the zip they are subpackages of the extension package
(`bl_ext.<repo>.uplift_mocap`), whose `__init__.py` only forwards to `addon`. So the pure packages are always
the add-on's siblings, and only the prefix differs: no fallback that could hide a real ImportError.
"""
from __future__ import annotations

import importlib
from types import ModuleType

_ROOT = (__package__ or "addon").rpartition(".")[0]  # "" in a checkout, the extension package in the zip
# What Blender registers: the extension package in the zip, `addon` in a checkout (tests, batch).
ADDON_PACKAGE = _ROOT or (__package__ or "addon")


def _sibling(name: str) -> ModuleType:
    return importlib.import_module(f"{_ROOT}.{name}" if _ROOT else name)


inference = _sibling("inference")
retarget = _sibling("retarget")
# The pure retarget modules the add-on uses (numpy/scipy).
bonemap = _sibling("retarget.bonemap")
motion = _sibling("retarget.motion")


def __getattr__(name: str) -> ModuleType:
    """`bpy_keys`, the one retarget module that writes through bpy, loads on first use (job.py and the
    batch's argument parsing stay importable without Blender)."""
    if name == "bpy_keys":
        return _sibling("retarget.bpy_keys")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["ADDON_PACKAGE", "bonemap", "bpy_keys", "inference", "motion", "retarget"]
