"""The `posed` evaluation: exact 2D of posed Anny bodies and of their source mocap, through the render cameras."""

from __future__ import annotations

import numpy as np

from inference.training import render_plan as rp
from inference.training.data import load_clips
from inference.training.evaluate_posed import evaluate_posed, posed_sequences, posed_table


def test_posed_mode_lifts_both_skeletons_through_the_same_camera(mocap_dir) -> None:
    clips = rp.clip_order(load_clips(mocap_dir / "h36m17", fps=30.0, split="val"))[:2]
    seqs = posed_sequences(clips, sigma=0.0)
    for s in seqs:
        a, m = s["anny"], s["mocap"]
        assert a["px"].shape[:2] == a["gt"].shape[:2] == m["gt"].shape[:2]
        assert np.abs(a["gt"][:, 0]).max() == 0.0  # pelvis-relative
        # same camera, same root: the pelvis lands on the same pixel, the bodies differ (Anny's own bones)
        assert np.abs(a["px"][:, 0] - m["px"][:, 0]).max() < 1.0
        assert np.abs(a["gt"] - m["gt"]).mean() > 0.005
        w, h = s["size"]
        assert (a["px"][..., 0] > -0.1 * w).all() and (a["px"][..., 1] < 1.1 * h).all()  # in view
    res = evaluate_posed(seqs, strides=(10,))
    for label in ("anny", "mocap"):
        r = res[10][label]
        assert 20.0 < r["MPJPE"] < 160.0 and r["P-MPJPE"] <= r["MPJPE"]
    assert "| 10 | 2 |" in posed_table(res)


def test_blend_world_moves_only_limb_key_rows_and_interpolates_between() -> None:
    from inference.training.evaluate_rendered import LIMBS, blend_world

    rng = np.random.default_rng(0)
    ours = rng.normal(size=(21, 17, 3))
    ours -= ours[:, :1]
    theta = 0.7  # their world landmarks: ours turned about y, so one rotation maps them back exactly
    rot = np.array([[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]])
    world = ours @ rot.T + 0.3  # their own axes and origin
    keys = np.arange(0, 21, 5)
    assert np.allclose(blend_world(ours, world, keys, w=0.7), ours)  # same pose: nothing to add
    world2 = world.copy()
    world2[10, LIMBS] += np.full(3, 0.05) @ rot.T
    out = blend_world(ours, world2, keys, w=1.0)
    torso = [i for i in range(17) if i not in set(LIMBS.tolist())]
    assert np.allclose(out[:, torso], ours[:, torso])
    moved = np.abs(out - ours).max(axis=(1, 2))
    assert moved[10] > moved[8] > moved[6] > 0 and moved[0] < 0.2 * moved[10]  # peak on the key row, fading out
