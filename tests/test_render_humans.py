"""Rendered humans: Anny posed from mocap -> Cycles CPU -> real MediaPipe (full, lite) -> pairs npz.

The end-to-end test renders 3 small key-frames of one val clip (320x320, 4 samples: ~15 s on 2 cores) and
checks the documented arrays, the camera geometry, and that MediaPipe sees the body where the exact joints
project. The posing tests check the math on a real clip without rendering.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from inference.skeleton import BONES, INDEX
from inference.training import humans, pairs
from inference.training import render_plan as rp
from inference.training.data import load_clips


@pytest.fixture(scope="module")
def val_clip(mocap_dir):
    return load_clips(mocap_dir / "h36m17", fps=30.0, split="val", max_clips=1)[0]


@pytest.fixture(scope="module")
def body():
    return humans.AnnyBody({"age": 0.8, "gender": 0.3, "weight": 0.6})


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def test_rest_joints_reproduce_the_rest_pose(body) -> None:
    posed = body.pose(body.rest_joints[None])
    assert np.abs(posed.joints[0] - body.rest_joints).max() < 1e-9
    assert body.rest_vertices.shape == (13718, 3) and len(body.names) == 104


def test_limbs_follow_the_mocap_directions_with_anny_bone_lengths(body, val_clip) -> None:
    target = humans.yup_to_zup(val_clip.joints[:60:5])
    posed = humans.pose_clip(body, target)
    limbs = [
        (INDEX[a], INDEX[b])
        for a, b in (
            ("LHip", "LKnee"),
            ("LKnee", "LAnkle"),
            ("RHip", "RKnee"),
            ("RKnee", "RAnkle"),
            ("LShoulder", "LElbow"),
            ("LElbow", "LWrist"),
            ("RShoulder", "RElbow"),
            ("RElbow", "RWrist"),
            ("Neck", "Head"),
        )
    ]
    for a, b in limbs:
        assert _angle_deg(posed.joints[:, b] - posed.joints[:, a], target[:, b] - target[:, a]).max() < 0.1
    for child, parent in BONES:  # a rigid body: every bone keeps Anny's length in every frame
        length = np.linalg.norm(posed.joints[:, child] - posed.joints[:, parent], axis=-1)
        assert length.std() < 2e-3, (child, parent)
    assert abs(float(np.percentile(posed.vertices[..., 2].min(axis=1), 10))) < 1e-9  # on the floor


def test_plan_is_fixed_by_the_clip_name() -> None:
    a, b = rp.plan_clip("cmu_001_01", 600), rp.plan_clip("cmu_001_01", 600)
    assert a.to_json() == b.to_json()
    assert rp.plan_clip("hdm05_x", 600).to_json() != a.to_json()
    assert 2 <= a.n_keys <= 24 and a.key_frames[-1] < 600
    assert abs(rp.luminance(a.look.skin) - np.mean([rp.luminance(c) for c in a.look.bg_colors])) >= 0.2


def test_a_60_fps_plan_spans_the_same_seconds() -> None:
    """The 60 fps evaluation clips (val_60fps/) draw the same plan with every spacing doubled."""
    a, b = rp.plan_clip("cmu_001_01", 600), rp.plan_clip("cmu_001_01", 1200, fps=60.0)
    assert b.stride == 2 * a.stride and b.n_keys == a.n_keys and b.phenotype == a.phenotype
    assert (b.key_frames[-1] - b.key_frames[0]) / 60.0 == (a.key_frames[-1] - a.key_frames[0]) / 30.0
    assert pairs.split_folder("val") == "val" and pairs.split_folder("val", 60.0) == "val_60fps"


def test_render_detect_pairs_end_to_end(val_clip, tmp_path) -> None:
    pytest.importorskip("bpy")
    from addon import render_humans

    clip = type(val_clip)(val_clip.name, val_clip.source, val_clip.joints[:31])
    s = render_humans.render_clip(clip, tmp_path, samples=4, max_keys=3, size=(320, 320))
    path = tmp_path / pairs.clip_filename(clip.name)
    z = pairs.load_pairs(path)
    assert set(z) == set(pairs.ARRAYS), set(z) ^ set(pairs.ARRAYS)
    k = len(z["key_frames"])
    assert k == 3 and str(z["split"]) == "val" and int(z["version"]) == pairs.FORMAT_VERSION
    assert z["mp_full_image"].shape == (k, 33, 5) and z["mp_lite_world"].shape == (k, 33, 3)
    assert z["dense_joints_cam"].shape == (z["key_frames"][-1] - z["key_frames"][0] + 1, 17, 3)
    w, h = z["image_size"]
    uv = z["joints_2d"]
    assert (uv[..., 0] > 0).all() and (uv[..., 0] < w).all() and (uv[..., 1] > 0).all() and (uv[..., 1] < h).all()
    cam = (z["joints_world"] - z["cam_C"]) @ z["cam_R"].T
    np.testing.assert_allclose(cam, z["joints_cam"], atol=1e-4)
    assert (z["joints_cam"][..., 2] > 0.3).all()
    dense_keys = z["dense_joints_cam"][z["key_frames"] - z["key_frames"][0]]
    np.testing.assert_allclose(dense_keys, z["joints_cam"], atol=1e-4)
    json.loads(str(z["plan_json"])), json.loads(str(z["render_json"]))

    # MediaPipe (the real one) sees the body where its exact joints project
    body_px = np.linalg.norm(uv.max(axis=1) - uv.min(axis=1), axis=-1)  # per frame
    for m in pairs.MODELS:
        found = z[f"mp_{m}_found"]
        assert found.sum() >= 2, f"MediaPipe {m} found the body on {found.sum()} of {k} frames"
        hips_mp = z[f"mp_{m}_image"][found][:, [24, 23], :2]  # right, left
        hips = uv[found][:, [INDEX["RHip"], INDEX["LHip"]]]
        err = np.linalg.norm(hips_mp - hips, axis=-1)
        assert np.median(err) < 0.12 * np.median(body_px), (m, err, body_px)
        assert (z[f"mp_{m}_image"][found][:, [11, 12, 23, 24], 3] > 0.5).mean() > 0.75  # shoulders/hips visible
    assert s["full_found"] >= 2 / 3 and s["render_s_per_frame"] > 0


def test_plan_bodies_stand_as_tall_as_real_people(val_clip) -> None:
    """Anny's height phenotype alone gave 1.22-2.20 m; plans now fit it to a sampled real stature."""
    rng = np.random.default_rng(3)
    heights = [rp.sample_stature(rng, g) for g in rng.uniform(size=400)]
    assert rp.STATURE_RANGE_M[0] <= min(heights) and max(heights) <= rp.STATURE_RANGE_M[1]
    assert 1.64 < float(np.mean(heights)) < 1.76
    plan = rp.plan_clip(val_clip.name, len(val_clip.joints))
    before = dict(plan.phenotype)
    body = humans.body_for_plan(plan)
    rest = body.rest_vertices[:, 2]
    assert abs(float(rest.max() - rest.min()) - plan.stature_m) < 0.01
    assert {k: v for k, v in plan.phenotype.items() if k != "height"} == {
        k: v for k, v in before.items() if k != "height"
    }
