"""The bpy side of rendered humans: a scene with one body mesh, floor, sky, sun and camera; Cycles to numpy.

Developer tool (not shipped in the extension zip): used by addon/render_humans.py. Everything it draws
comes from a bpy-free plan (inference/training/render_plan.py, passed in as plain values: this module
imports nothing from the training side): it only turns numbers into pixels.
Blender's world is Z up; the plan's cameras are +Y up world -> OpenCV camera (x right, y down, z forward),
so the camera pose is converted here (`blender_camera_matrix`), and the test checks it against MediaPipe.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bpy
import numpy as np

# +Y-up world (mocap, cameras.py) -> Blender's Z-up world
YUP_TO_ZUP = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
_CV_TO_BLENDER_CAM = np.diag([1.0, -1.0, -1.0])  # OpenCV camera axes -> Blender camera axes


def srgb_to_linear(c: tuple[float, ...]) -> tuple[float, float, float, float]:
    lin = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c[:3]]
    return (lin[0], lin[1], lin[2], 1.0)


def blender_camera_matrix(R: np.ndarray, C: np.ndarray) -> np.ndarray:
    """4x4 camera matrix_world from R (world +Y up -> OpenCV camera) and centre C (+Y up world)."""
    m = np.eye(4)
    m[:3, :3] = YUP_TO_ZUP @ R.T @ _CV_TO_BLENDER_CAM
    m[:3, 3] = YUP_TO_ZUP @ C
    return m


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence the C-level stdout (fd 1) for the duration: Blender's render chatter bypasses sys.stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class HumanScene:
    """One clip's scene. `set_pose(vertices)` then `render()` per key-frame."""

    def __init__(
        self,
        vertices: np.ndarray,
        faces: np.ndarray,
        face_mat: np.ndarray,
        materials: list[tuple[str, tuple[float, float, float]]],
        look: Any,
        size: tuple[int, int],
        samples: int = 8,
        denoise: bool = True,
        threads: int = 0,
    ) -> None:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        self.scene = bpy.context.scene
        self._tmp = Path(tempfile.mkdtemp(prefix="render_humans_"))
        self._setup_render(size, samples, denoise, threads)
        self.mesh_obj = self._body(vertices, faces, face_mat, materials)
        self._floor(look)
        self._world(look)
        self._sun(look)
        cam = bpy.data.cameras.new("cam")
        self.camera = bpy.data.objects.new("cam", cam)
        self.scene.collection.objects.link(self.camera)
        self.scene.camera = self.camera

    def _setup_render(self, size: tuple[int, int], samples: int, denoise: bool, threads: int) -> None:
        s = self.scene
        s.render.engine = "CYCLES"
        s.cycles.device = "CPU"
        s.cycles.samples = samples
        s.cycles.use_adaptive_sampling = False
        s.cycles.use_denoising = denoise
        s.cycles.max_bounces = 3
        s.cycles.diffuse_bounces = 2
        s.cycles.glossy_bounces = 1
        s.cycles.transmission_bounces = 0
        s.cycles.transparent_max_bounces = 1
        if threads:
            s.render.threads_mode = "FIXED"
            s.render.threads = threads
        s.render.resolution_x, s.render.resolution_y = int(size[0]), int(size[1])
        s.render.resolution_percentage = 100
        s.render.image_settings.file_format = "PNG"
        s.render.image_settings.color_mode = "RGB"
        s.render.film_transparent = False
        s.view_settings.view_transform = "Standard"

    @staticmethod
    def _material(name: str, rgb: tuple[float, ...], roughness: float = 0.6) -> Any:
        mat = bpy.data.materials.new(name)
        mat.use_nodes = True
        bsdf = mat.node_tree.nodes.get("Principled BSDF")
        bsdf.inputs["Base Color"].default_value = srgb_to_linear(rgb)
        bsdf.inputs["Roughness"].default_value = roughness
        return mat

    def _body(
        self,
        vertices: np.ndarray,
        faces: np.ndarray,
        face_mat: np.ndarray,
        materials: list[tuple[str, tuple[float, float, float]]],
    ) -> Any:
        """The body mesh; face_mat indexes `materials` (name, sRGB) per face."""
        mesh = bpy.data.meshes.new("body")
        mesh.from_pydata(vertices.astype(np.float64).tolist(), [], faces.astype(np.int64).tolist())
        for name, rgb in materials:
            mesh.materials.append(self._material(name, rgb, 0.5 if name == "skin" else 0.8))
        mesh.polygons.foreach_set("material_index", face_mat.astype(np.int32))
        mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), dtype=bool))
        mesh.update()
        obj = bpy.data.objects.new("body", mesh)
        self.scene.collection.objects.link(obj)
        return obj

    def _floor(self, look: Any) -> None:
        r = 30.0
        mesh = bpy.data.meshes.new("floor")
        mesh.from_pydata([(-r, -r, 0), (r, -r, 0), (r, r, 0), (-r, r, 0)], [], [(0, 1, 2, 3)])
        mesh.materials.append(self._material("floor", look.floor, 0.9))
        obj = bpy.data.objects.new("floor", mesh)
        self.scene.collection.objects.link(obj)

    def _world(self, look: Any) -> None:
        """Background seen by the camera (solid, vertical gradient, or noise) and a sky that lights."""
        world = bpy.data.worlds.new("world")
        self.scene.world = world
        world.use_nodes = True
        nt = world.node_tree
        bg = nt.nodes["Background"]
        bg.inputs["Strength"].default_value = look.sky_strength
        c0, c1 = srgb_to_linear(look.bg_colors[0]), srgb_to_linear(look.bg_colors[1])
        if look.background == "solid":
            bg.inputs["Color"].default_value = c0
            return
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = c0
        ramp.color_ramp.elements[1].color = c1
        coord = nt.nodes.new("ShaderNodeTexCoord")
        if look.background == "gradient":
            sep = nt.nodes.new("ShaderNodeSeparateXYZ")  # view direction's Z: horizon -> zenith
            nt.links.new(coord.outputs["Generated"], sep.inputs[0])
            maprange = nt.nodes.new("ShaderNodeMapRange")
            maprange.inputs["From Min"].default_value = -0.3
            maprange.inputs["From Max"].default_value = 0.6
            nt.links.new(sep.outputs["Z"], maprange.inputs["Value"])
            nt.links.new(maprange.outputs["Result"], ramp.inputs["Fac"])
        else:
            noise = nt.nodes.new("ShaderNodeTexNoise")
            noise.inputs["Scale"].default_value = look.noise_scale
            noise.inputs["Detail"].default_value = 4.0
            nt.links.new(coord.outputs["Generated"], noise.inputs["Vector"])
            nt.links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
        nt.links.new(ramp.outputs["Color"], bg.inputs["Color"])

    def _sun(self, look: Any) -> None:
        light = bpy.data.lights.new("sun", "SUN")
        light.energy = look.sun_strength
        light.angle = np.radians(5.0)
        obj = bpy.data.objects.new("sun", light)
        el, az = np.radians(look.sun_elevation_deg), np.radians(look.sun_azimuth_deg)
        obj.rotation_euler = (float(np.pi / 2 - el), 0.0, float(az))
        self.scene.collection.objects.link(obj)

    def set_camera(self, R: np.ndarray, C: np.ndarray, f_px: float, size: tuple[int, int]) -> None:
        """Pinhole camera from the plan: f in pixels, principal point at the image centre."""
        from mathutils import Matrix  # noqa: PLC0415

        cam = self.camera.data
        w, h = size
        cam.sensor_fit = "HORIZONTAL" if w >= h else "VERTICAL"
        cam.sensor_width = cam.sensor_height = 36.0
        cam.lens = float(f_px) * 36.0 / max(w, h)
        cam.clip_start, cam.clip_end = 0.05, 200.0
        self.camera.matrix_world = Matrix(blender_camera_matrix(R, C).tolist())

    def set_pose(self, vertices: np.ndarray) -> None:
        mesh = self.mesh_obj.data
        mesh.vertices.foreach_set("co", vertices.astype(np.float32).ravel())
        mesh.update()

    def render(self) -> np.ndarray:
        """Render the current pose -> RGB uint8 [H, W, 3]."""
        import cv2  # noqa: PLC0415

        path = self._tmp / "frame.png"
        self.scene.render.filepath = str(path)
        with _quiet_stdout():  # Blender prints a "Saved: ..." line per frame
            bpy.ops.render.render(write_still=True)
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise RuntimeError(f"Blender wrote no image at {path}")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        for p in self._tmp.glob("*"):
            p.unlink()
        os.rmdir(self._tmp)
