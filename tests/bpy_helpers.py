"""Small helpers the Blender tests share (fixtures live in conftest.py)."""

from __future__ import annotations

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
