"""The `posed` evaluation: the rendered mode's bodies and cameras, without the renderer or the detector.

Why: on rendered people the lifter loses to MediaPipe's own 3D, and a render costs seconds a frame. This mode
asks the cheaper question first: given *exact* 2D (σ px noise) of the same posed Anny bodies through the same
cameras as `addon.render_humans` would use (same plans, same seeds), how well do we lift? And the same cameras
on the **source mocap** skeleton that posed each body, so the gap between the two is what the body's proportions
(Anny's rig vs the mocap's joint definitions) cost, with detector and image out of the picture.

Scored like `evaluate_rendered` (no alignment for ours; all frames, key and in-between):
  anny     exact 2D of the Anny joints, scored against the Anny joints (what `rendered` has as truth)
  mocap    exact 2D of the source mocap joints (Anny's root path and camera), scored against the mocap joints
"""

from __future__ import annotations

import numpy as np

from ..lift import DEFAULT_HOP, uplift
from . import humans
from .data import Clip
from .evaluate_rendered import _scores

STRIDES = (5, 10, 20)


def posed_sequences(clips: list[Clip], sigma: float = 3.0, seed: int = 0, max_keys: int = 24) -> list[dict]:
    """Per clip: the render plan, Anny posed on its dense window, the camera render_humans would pick; exact
    dense 2D and camera-frame joints for the Anny body and for the source mocap (same camera)."""
    rng = np.random.default_rng(seed + 11)
    out = []
    for clip in clips:
        shot = humans.plan_shot(clip, seed=seed, max_keys=max_keys)
        plan, key_rel, anny, cam = shot.plan, shot.key_rel, shot.joints_yup, shot.camera
        # the mocap skeleton at Anny's root (same place in the picture), bones as in the mocap
        src = clip.joints[plan.dense_frames].astype(np.float64)
        src = src - src[:, :1] + anny[:, :1]
        seq: dict = {"name": clip.name, "size": plan.size, "stride": plan.stride, "keys": key_rel}
        for label, world in (("anny", anny), ("mocap", src)):
            xc = cam.to_camera(world[None].astype(np.float32))
            px = cam.project(xc)[0].astype(np.float64)
            px = px + rng.normal(0.0, sigma, px.shape)
            seq[label] = {"px": px.astype(np.float32), "gt": (xc[0] - xc[0, :, :1]).astype(np.float32)}
        out.append(seq)
    return out


def evaluate_posed(seqs: list[dict], strides=STRIDES, weights=None, hop: int = DEFAULT_HOP) -> dict:
    """{s_in: {"anny": scores, "mocap": scores, "clips", "frames"}}; spacing = nearest multiple of the plan's
    stride, as in the rendered mode (clips more than 25 % off are left out there; here every clip counts)."""
    res: dict = {}
    for s_in in strides:
        r: dict = {}
        for label in ("anny", "mocap"):
            preds, gts = [], []
            for s in seqs:
                m = max(1, round(s_in / s["stride"]))
                keys = s["keys"][::m]
                px = np.full_like(s[label]["px"], np.nan)
                px[keys] = s[label]["px"][keys]
                preds.append(uplift(px, s["size"], 30.0, weights=weights, hop=hop))
                gts.append(s[label]["gt"])
            r[label] = _scores(preds, gts)
            r["clips"], r["frames"] = len(gts), int(sum(len(g) for g in gts))
        res[s_in] = r
    return res


def posed_table(res: dict) -> str:
    cols = ["MPJPE", "MPJPE_limbs", "P-MPJPE", "acc_err", "range_%"]
    lines = [
        "| s_in | clips | frames | skeleton | " + " | ".join(cols) + " |",
        "|---|---|---|---|" + "---|" * len(cols),
    ]
    for s_in, r in res.items():
        for label in ("anny", "mocap"):
            vals = " | ".join(f"{r[label][c]:.1f}" for c in cols)
            lines.append(f"| {s_in} | {r['clips']} | {r['frames']} | {label} | {vals} |")
    return "\n".join(lines)
