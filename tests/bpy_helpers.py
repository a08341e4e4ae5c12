"""Small helpers the Blender tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import math

import numpy as np

VIDEO_FPS = 30.0  # the rate of the simulated capture and of the test scenes


def ids() -> dict[str, set[str]]:
    """Names of the datablocks a capture may add: compare before/after to prove nothing leaked."""
    import bpy

    return {
        c: {i.name for i in getattr(bpy.data, c)}
        for c in ("objects", "armatures", "actions", "cameras", "movieclips", "collections")
    }


class Layout:
    """Stands in for UILayout: records every property a draw function shows and checks that it exists."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen
        self.use_property_split = self.use_property_decorate = self.enabled = False

    def prop(self, data, name, **kw):
        assert hasattr(data, name), name
        self.seen.append(name)

    def prop_search(self, data, name, search_data, search_name, **kw):
        assert hasattr(data, name) and hasattr(search_data, search_name)
        self.seen.append(name)

    def operator(self, idname, **kw):
        import bpy

        module, name = idname.split(".")
        assert hasattr(getattr(bpy.ops, module), name), idname
        return type("Props", (), {})()

    def label(self, **kw):
        self.seen.append("label:" + kw.get("text", ""))

    def column(self, **kw):
        return self

    row = box = column


def bone_quats(action, obj) -> dict[str, np.ndarray]:
    """bone -> [T, 4] quaternion keys read back from the action's F-curves."""
    from addon import check2d

    fcurves = check2d._fcurves(obj.animation_data)
    out: dict[str, list] = {}
    for fc in fcurves:
        if fc.data_path.endswith("rotation_quaternion"):
            bone = fc.data_path.split('"')[1]
            co = np.empty(2 * len(fc.keyframe_points))
            fc.keyframe_points.foreach_get("co", co)
            out.setdefault(bone, [None] * 4)[fc.array_index] = co.reshape(-1, 2)
    return {b: np.stack([c[:, 1] for c in v], axis=1) for b, v in out.items()}, {b: v[0][:, 0] for b, v in out.items()}


def lowest_z(obj, bones: list[str], frames: range, ends: tuple[str, ...] = ("head", "tail")) -> float:
    """Lowest world Z of the given ends ("head" / "tail") of the posed bones over the frames."""
    import bpy

    low = math.inf
    sc = bpy.context.scene
    for f in frames:
        sc.frame_set(f)
        mw = obj.matrix_world
        for b in bones:
            pb = obj.pose.bones[b]
            low = min(low, *((mw @ getattr(pb, end)).z for end in ends))
    return low


def check_keys(obj, n_frames: int, first: int) -> None:
    quats, frames = bone_quats(obj.animation_data.action, obj)
    held = {b for b, f in frames.items() if len(f) == 1}  # bones held at rest by one constant key
    for bone in held:
        np.testing.assert_allclose(quats[bone], [[1, 0, 0, 0]], err_msg=bone)
    animated = {b: q for b, q in quats.items() if b not in held}
    assert len(animated) >= 13, f"only {sorted(animated)} animated"
    for bone, q in animated.items():
        np.testing.assert_array_equal(frames[bone], np.arange(first, first + n_frames), err_msg=bone)  # every frame
        assert np.all(np.isfinite(q)), bone
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
        dots = np.abs(np.sum(q[1:] * q[:-1], axis=1))
        step_deg = np.degrees(2 * np.arccos(np.clip(dots, -1, 1)))
        assert step_deg.max() < 45.0, f"{bone}: jumps {step_deg.max():.1f} deg in one frame"
        assert np.all(np.sum(q[1:] * q[:-1], axis=1) > 0), f"{bone}: quaternion sign flips (not continuous)"
