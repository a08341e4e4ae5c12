"""Metrics used by `evaluate` and `evaluate-video`, checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from inference.training import metrics as M
from inference.training.evaluate import bilinear
from inference.training.evaluate_video import acceleration_ms2


def _pose(seed: int = 0, t: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.3, (t, 17, 3))


def test_mpjpe_of_a_constant_offset():
    gt = _pose()
    assert abs(M.mpjpe(gt + np.array([0.003, 0.004, 0.0]), gt) - 5.0) < 1e-9  # a 3-4-5 mm offset


def test_n_and_p_mpjpe_remove_scale_and_rigid_motion():
    gt = _pose()
    assert M.n_mpjpe(1.3 * gt, gt) < 1e-6
    r = Rotation.from_euler("xyz", [20, -35, 60], degrees=True).as_matrix()
    moved = 0.8 * gt @ r.T + np.array([0.1, -0.2, 0.3])
    assert M.mpjpe(moved, gt) > 100
    assert M.p_mpjpe(moved, gt) < 1e-6
    # a reflection is not a rotation: P-MPJPE must not undo it
    mirrored = gt * np.array([-1, 1, 1])
    assert M.p_mpjpe(mirrored, gt) > 10


def test_temporal_errors():
    gt = _pose()
    assert M.velocity_error(gt + 0.01, gt) < 1e-9  # a constant offset has no velocity error
    t = np.arange(20, dtype=float)[:, None, None]
    drift = gt + 0.002 * t * np.array([1.0, 0, 0])  # constant velocity error of 2 mm/frame
    assert abs(M.velocity_error(drift, gt) - 2.0) < 1e-9 and M.acceleration_error(drift, gt) < 1e-9


def test_bone_length_std_of_a_rigid_and_a_breathing_skeleton():
    rest = _pose(t=1)
    rigid = np.repeat(rest, 10, 0) + np.arange(10)[:, None, None] * 0.01
    assert M.bone_length_std(rigid) < 1e-9
    scale = np.where(np.arange(10) % 2 == 0, 1.0, 1.1)[:, None, None]
    lengths = M.bone_lengths(rest)[0]
    assert abs(M.bone_length_std(rest * scale) - 1000 * 0.05 * lengths.mean()) < 1e-6


def test_bilinear_interpolates_between_keys_and_holds_edges():
    pred = np.zeros((11, 17, 3))
    pred[2], pred[8] = 1.0, 4.0
    out = bilinear(pred, np.array([2, 8]))
    assert out[5, 0, 0] == 2.5 and out[0, 0, 0] == 1.0 and out[10, 0, 0] == 4.0


def test_acceleration_uses_only_evenly_spaced_triples():
    t = np.array([0, 5, 10, 15, 25, 30])  # frame 20 lost
    x = np.zeros((6, 17, 3))
    x[:, 1:, 0] = (0.5 * 0.01 * t**2)[:, None]  # 0.01 m per frame^2 on every non-root joint
    acc = acceleration_ms2(x, t, 5)  # per sample^2 = 0.01 * 25
    assert abs(acc - 16 / 17 * 0.25) < 1e-9
    assert np.isnan(acceleration_ms2(x[:3], np.array([0, 5, 15]), 5))


def test_motion_range_shows_damped_motion():
    rng = np.random.default_rng(0)
    gt = np.cumsum(rng.normal(0, 0.01, (60, 17, 3)), axis=0)
    mean = gt.mean(axis=0)
    assert abs(M.motion_range(gt + 0.05, gt) - 100.0) < 1e-6  # an offset moves as far
    assert abs(M.motion_range(mean + 0.3 * (gt - mean), gt) - 30.0) < 1e-6  # shrunk towards the mean pose
    assert M.motion_range(np.repeat(mean[None], 60, 0), gt) < 1e-9  # a frozen pose
