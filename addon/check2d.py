"""The 2D check: the clip as a camera background with MediaPipe's key-points as keyed empties in front of it.

Why empties on an orthographic camera: they need no drawing handler, survive save/reload, show in
renders of the viewport and can be scrubbed with the timeline like the rig. Looking through the camera
(Numpad 0) shows each key-frame's 17 detected joints over the video frame they came from; between
key-frames the points hold (constant interpolation), which is exactly what the model was given.
The background is stretched to the camera frame and the points are placed in the same normalised frame,
so they line up whatever the scene's render resolution is when the check is made.
"""

from dataclasses import dataclass, field
from typing import Any

import bpy
import numpy as np

from ._pkgs import inference


@dataclass
class Check2D:
    collection: Any
    camera: Any
    clip: Any
    empties: list[Any] = field(default_factory=list)


def frame_extent(scene: Any) -> tuple[float, float]:
    """Width and height of an orthographic camera's frame of scale 1 for this scene's render aspect."""
    r = scene.render
    w = r.resolution_x * r.pixel_aspect_x
    h = r.resolution_y * r.pixel_aspect_y
    return (1.0, h / w) if w >= h else (w / h, 1.0)


def pixels_to_camera(
    points: np.ndarray, image_size: tuple[int, int], extent: tuple[float, float], depth: float = 1.0
) -> np.ndarray:
    """[..., 2] pixels (x right, y down) -> [..., 3] camera-local positions on the stretched frame."""
    w, h = image_size
    ew, eh = extent
    out = np.empty(points.shape[:-1] + (3,), dtype=np.float64)
    out[..., 0] = (points[..., 0] / w - 0.5) * ew
    out[..., 1] = (0.5 - points[..., 1] / h) * eh
    out[..., 2] = -depth  # a camera looks down its local -Z
    return out


def build(context: Any, result: Any, name: str, first_frame: int) -> Check2D:
    """Add the camera, clip and keyed empties in a new collection. Row t of the capture is shown at scene
    frame `first_frame + t`, like the clip (Blender plays a clip one frame per scene frame), which is where
    the rig's keys are too when the scene runs at the video's frame rate."""
    scene = context.scene
    coll = bpy.data.collections.new(f"{name} 2D Check")
    scene.collection.children.link(coll)

    clip = bpy.data.movieclips.load(result.source, check_existing=False)
    clip.frame_start = first_frame - int(result.frame_start)  # clip frame 0 shows at this scene frame

    cam_data = bpy.data.cameras.new(f"{name} 2D Check")
    cam_data.type = "ORTHO"
    cam_data.ortho_scale = 1.0
    cam_data.show_background_images = True
    bg = cam_data.background_images.new()
    bg.source = "MOVIE_CLIP"
    bg.clip = clip
    bg.frame_method = "STRETCH"
    bg.alpha = 1.0
    cam = bpy.data.objects.new(f"{name} 2D Check", cam_data)
    cam.location = (0.0, -6.0, 1.0)
    cam.rotation_euler = (np.pi / 2, 0.0, 0.0)  # looks along +Y, like the front view
    coll.objects.link(cam)

    pts = pixels_to_camera(
        np.asarray(result.points2d, dtype=np.float64), tuple(result.image_size), frame_extent(scene), depth=1.0
    )
    rows = [int(r) for r in np.asarray(result.keyframes)]
    check = Check2D(coll, cam, clip)
    for j, joint in enumerate(inference.JOINT_NAMES):
        empty = bpy.data.objects.new(f"{name} 2D {joint}", None)
        empty.empty_display_type = "SPHERE"
        empty.empty_display_size = 0.006
        empty.parent = cam
        coll.objects.link(empty)
        for row in rows:
            p = pts[row, j]
            if not np.all(np.isfinite(p)):
                continue
            empty.location = p
            empty.keyframe_insert("location", frame=first_frame + row)
        _constant(empty)
        check.empties.append(empty)
    return check


def _constant(obj: Any) -> None:
    """Hold each key-frame's point until the next one (no invented in-between 2D)."""
    ad = obj.animation_data
    if ad is None or ad.action is None:
        return
    for fc in _fcurves(ad):
        for kp in fc.keyframe_points:
            kp.interpolation = "CONSTANT"


def _fcurves(ad: Any) -> list[Any]:
    """F-curves of an object's action in Blender 4.2 (legacy fcurves) and 4.4+/5.0 (layered actions)."""
    action = ad.action
    if hasattr(action, "fcurves") and len(getattr(action, "layers", ())) == 0:
        return list(action.fcurves)
    out = []
    slot = getattr(ad, "action_slot", None)
    for layer in action.layers:
        for strip in layer.strips:
            bag = strip.channelbag(slot) if slot is not None else None
            if bag is not None:
                out.extend(bag.fcurves)
    return out


def remove(check: Check2D) -> None:
    """Undo a partly built check (used when the capture's write step fails half-way)."""
    for empty in check.empties:
        action = empty.animation_data.action if empty.animation_data else None
        bpy.data.objects.remove(empty)
        if action is not None and action.users == 0:
            bpy.data.actions.remove(action)
    if check.camera is not None:
        data = check.camera.data
        bpy.data.objects.remove(check.camera)
        bpy.data.cameras.remove(data)
    if check.clip is not None:
        bpy.data.movieclips.remove(check.clip)
    bpy.data.collections.remove(check.collection)
