"""Finds the two pure packages both in the repo checkout and inside the built extension zip.

In the extension, inference/ and retarget/ are subpackages of the add-on package; in a checkout they
are top-level packages beside addon/.
"""
from __future__ import annotations

try:  # built extension: bl_ext.<repo>.uplift_mocap.{inference,retarget}
    from . import inference, retarget  # type: ignore[attr-defined]
except ImportError:  # repo checkout / bpy module
    import inference  # type: ignore[no-redef]
    import retarget  # type: ignore[no-redef]

__all__ = ["inference", "retarget"]
