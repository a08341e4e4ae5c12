"""Uplift Mocap: turn a video of a person into keyframed armature animation (Blender 4.2+ extension).

The add-on is a thin UI over two pure packages (see _pkgs.py): `inference` (video -> 3D joints) and
`retarget` (joints -> bone rotations). Heavy dependencies (torch, MediaPipe, OpenCV) are imported only
when a capture runs, so the add-on registers even before they are installed (Preferences > Install).
"""

from . import bonemap_ui, operators, panels, prefs, quality_ui

_MODULES = (prefs, operators, quality_ui, bonemap_ui, panels)


def register() -> None:
    for module in _MODULES:
        module.register()


def unregister() -> None:
    for module in reversed(_MODULES):
        module.unregister()
