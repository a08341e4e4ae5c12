"""Steady in-betweens (inference/lift/inbetween.py): the wobble of learned frames between key-frames goes,
the motion the model adds between them stays, key-frames and constant-velocity motion are left alone."""

from __future__ import annotations

import numpy as np

from inference.lift.inbetween import interpolate_keys, lowpass, steady_inbetweens

FPS = 30.0


def _arc(t: np.ndarray) -> np.ndarray:
    """A slow swing (0.5 Hz) of 17 joints: what a model should add between sparse key-frames."""
    x = 0.3 * np.sin(2 * np.pi * 0.5 * t / FPS)
    return np.repeat(np.stack([x, 0.5 * x, np.zeros_like(x)], -1)[:, None], 17, axis=1)


def test_interpolation_through_keys_holds_ends_and_is_exact_on_lines() -> None:
    t = np.arange(50.0)
    line = np.stack([2 * t, -t], -1)
    keys = np.array([3, 13, 23, 33, 43])
    out = interpolate_keys(line, keys)
    assert np.allclose(out[3:44], line[3:44])
    assert np.allclose(out[:3], line[3]) and np.allclose(out[44:], line[43])


def test_jitter_between_keys_is_removed() -> None:
    t = np.arange(300)
    keys = np.arange(0, 300, 10)
    truth = _arc(t)
    wobble = np.zeros_like(truth)
    rng = np.random.default_rng(0)
    off = np.setdiff1d(t, keys)
    wobble[off] = rng.normal(0, 0.01, (len(off), 17, 3))  # in-betweens guessed afresh: 1 cm jitter
    raw = truth + wobble
    out = steady_inbetweens(raw.astype(np.float32), keys, FPS)
    bil = interpolate_keys(raw, keys)  # interpolating the key-frames: smooth, but cuts the swing's arc
    acc = lambda x: np.abs(np.diff(x - truth, 2, axis=0))[20:-20].mean()  # noqa: E731
    err = lambda x: np.abs(x - truth)[20:-20].mean()  # noqa: E731
    print(f"acceleration error raw {acc(raw):.5f} steady {acc(out):.5f} interp {acc(bil):.5f}")
    print(f"error raw {err(raw):.5f} steady {err(out):.5f} interp {err(bil):.5f}")
    assert acc(out) < 0.25 * acc(raw) and acc(out) < 1.1 * acc(bil)
    assert err(out) < 0.75 * err(raw) and err(out) < err(bil)
    assert out.dtype == np.float32 and out.shape == raw.shape


def test_every_frame_a_key_or_one_key_is_unchanged() -> None:
    raw = np.random.default_rng(1).normal(size=(40, 17, 3)).astype(np.float32)
    assert steady_inbetweens(raw, np.arange(40), FPS) is raw
    assert steady_inbetweens(raw, np.array([5]), FPS) is raw


def test_lowpass_passes_slow_and_removes_fast_components() -> None:
    t = np.arange(600) / FPS
    slow, fast = np.sin(2 * np.pi * 0.5 * t), np.sin(2 * np.pi * 6.0 * t)
    out = lowpass((slow + fast)[:, None], FPS, 1.0, 2.0)[:, 0]
    assert np.abs(out - slow)[30:-30].max() < 0.02
