"""The add-on's one door to the two pure packages, and the name Blender knows the add-on by.

The checkout and the extension zip have the same layout: `addon/`, `inference/` and `retarget/` side by side.
In a checkout they are top-level packages; in the zip they are subpackages of the extension package
(`bl_ext.<repo>.uplift_mocap`), whose `__init__.py` only forwards to `addon`. So the pure packages are always
the add-on's siblings; which import form applies is decided from our own package name, never by trying one
and falling back (that would hide a real ImportError, e.g. a missing scipy).
"""

from __future__ import annotations

_ROOT = (__package__ or "addon").rpartition(".")[0]  # "" in a checkout, the extension package in the zip
# What Blender registers: the extension package in the zip, `addon` in a checkout (tests, batch).
ADDON_PACKAGE = _ROOT or (__package__ or "addon")

if _ROOT:  # installed extension: siblings inside the extension package
    from .. import inference, retarget  # type: ignore[no-redef]
    from ..inference import cli_args  # type: ignore[no-redef]
    from ..retarget import bonemap, bpy_keys, extremities, fingers, motion  # type: ignore[no-redef]
else:  # checkout / bpy module: top-level packages
    import inference
    import retarget
    from inference import cli_args
    from retarget import bonemap, bpy_keys, extremities, fingers, motion


__all__ = [
    "ADDON_PACKAGE",
    "bonemap",
    "bpy_keys",
    "cli_args",
    "extremities",
    "fingers",
    "inference",
    "motion",
    "retarget",
]
