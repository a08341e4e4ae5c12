"""Measure where MediaPipe puts each joint, from rendered humans whose joints are known exactly.

`python -m inference fit-landmarks --pairs runs/rendered -o inference/training/landmark_model.json`

Why: the lifter is trained on projected mocap, so the 2D it sees in training must sit where MediaPipe's points
sit on real bodies. The first model guessed those offsets (hips up/out, nose in front, ear-midpoint head);
this measures them. For every joint we feed the lifter (`pose2d.landmarks.mediapipe33_to_h36m17`), a
constant 3D offset from the exact joint centre is fitted in a body frame (`frames`), by linearised least
squares on the pixel residuals over all rendered key-frames and views, with outliers trimmed. What the offset
does not explain is noise (reported relative to the body's 2D height, as `noise.detector_noise` draws it),
outliers, left/right swaps and misses, per MediaPipe model (full, lite) and per view (front/side/back).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..pose2d.landmarks import REBUILT, mediapipe33_to_h36m17
from ..skeleton import INDEX, JOINT_NAMES, PARENTS

MODELS = ("full", "lite")
# The joints MediaPipe gives directly (the others are rebuilt from hips and shoulders), in skeleton order.
MEASURED = tuple(name for name in JOINT_NAMES if name not in REBUILT)
TORSO = ("RHip", "LHip", "LShoulder", "RShoulder")
HEAD = ("Neck", "Head")
SWAP_PAIRS = (
    ("LHip", "RHip"),
    ("LKnee", "RKnee"),
    ("LAnkle", "RAnkle"),
    ("LShoulder", "RShoulder"),
    ("LElbow", "RElbow"),
    ("LWrist", "RWrist"),
)
OUTLIER = 0.10  # residual > 10 % of the body's 2D height
VIEWS = {"front": (0.0, 45.0), "side": (45.0, 135.0), "back": (135.0, 180.1)}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def frames(j: np.ndarray) -> np.ndarray:
    """Per joint a body frame [..., 17, 3, 3] (rows: axis a, b, c in camera coordinates).

    Torso joints: (left, up, forward) of the torso. Neck/Head: (left, thorax->head, forward). Limb joints
    (knees, ankles, elbows, wrists): (along the bone from its parent, the torso's left made orthogonal to
    it, their cross product), so an offset "along the shin" stays along the shin in any pose.
    """
    i = INDEX
    up = _unit(j[..., i["Thorax"], :] - j[..., i["Pelvis"], :])
    left = (j[..., i["LHip"], :] - j[..., i["RHip"], :]) + (j[..., i["LShoulder"], :] - j[..., i["RShoulder"], :])
    left = _unit(left - np.sum(left * up, -1, keepdims=True) * up)
    fwd = np.cross(up, -left)  # up x right: where the chest faces
    out = np.zeros(j.shape[:-2] + (17, 3, 3), dtype=np.float64)
    torso = np.stack([left, up, fwd], axis=-2)
    hup = _unit(j[..., i["Head"], :] - j[..., i["Thorax"], :])
    hleft = _unit(left - np.sum(left * hup, -1, keepdims=True) * hup)
    head = np.stack([hleft, hup, np.cross(hup, -hleft)], axis=-2)
    for name in MEASURED:
        k = i[name]
        if name in TORSO:
            out[..., k, :, :] = torso
        elif name in HEAD:
            out[..., k, :, :] = head
        else:
            a = _unit(j[..., k, :] - j[..., PARENTS[k], :])
            b = _unit(left - np.sum(left * a, -1, keepdims=True) * a)
            out[..., k, :, :] = np.stack([a, b, np.cross(a, b)], axis=-2)
    return out


def _jacobian(x: np.ndarray, f: np.ndarray | float) -> np.ndarray:
    """d(pixel)/d(camera point) of a pinhole camera (focal f, per point or one) at points [..., 3] -> [..., 2, 3]."""
    z = x[..., 2]
    jac = np.zeros(x.shape[:-1] + (2, 3))
    jac[..., 0, 0] = f / z
    jac[..., 1, 1] = f / z
    jac[..., 0, 2] = -f * x[..., 0] / z**2
    jac[..., 1, 2] = -f * x[..., 1] / z**2
    return jac


@dataclass
class Samples:
    """All rendered key-frames of one MediaPipe model, flattened over clips."""

    joints_cam: np.ndarray  # [F, 17, 3] exact joints
    axes: np.ndarray  # [F, 17, 3, 3] each joint's body frame (`frames`), computed once
    mp2d: np.ndarray  # [F, 17, 2] MediaPipe mapped to the 17 joints (NaN where missing)
    exact2d: np.ndarray  # [F, 17, 2]
    vis: np.ndarray  # [F, 17] visibility of the landmarks behind each joint (min)
    found: np.ndarray  # [F] MediaPipe returned a body
    focal: np.ndarray  # [F] focal length, pixels
    body_px: np.ndarray  # [F] 2D body height of the exact joints
    view_deg: np.ndarray  # [F] angle between the chest's facing and the direction to the camera
    clip: np.ndarray  # [F] clip number


def load(paths: list[Path], model: str) -> Samples:
    rows: dict[str, list[np.ndarray]] = {k: [] for k in Samples.__dataclass_fields__}
    for n, path in enumerate(paths):
        with np.load(path, allow_pickle=False) as z:
            jc, j2 = z["joints_cam"].astype(np.float64), z["joints_2d"].astype(np.float64)
            img = z[f"mp_{model}_image"].astype(np.float64)
            found = z[f"mp_{model}_found"].astype(bool)
            f = float(z["K"][0, 0])
        axes = frames(jc)
        rows["joints_cam"].append(jc)
        rows["axes"].append(axes)
        rows["exact2d"].append(j2)
        rows["mp2d"].append(mediapipe33_to_h36m17(img[..., :2]).astype(np.float64))
        vis = np.minimum(img[..., 3], img[..., 4])
        rows["vis"].append(mediapipe33_to_h36m17(vis[..., None])[..., 0].astype(np.float64))
        rows["found"].append(found)
        rows["focal"].append(np.full(len(jc), f))
        rows["body_px"].append(np.ptp(j2[..., 1], axis=-1))
        fwd = axes[:, INDEX["LHip"], 2]
        to_cam = _unit(-jc[:, INDEX["Pelvis"]])
        rows["view_deg"].append(np.degrees(np.arccos(np.clip(np.sum(fwd * to_cam, -1), -1, 1))))
        rows["clip"].append(np.full(len(jc), n))
    return Samples(**{k: np.concatenate(v) for k, v in rows.items()})


def fit_offset(s: Samples, k: int, mask: np.ndarray, iters: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Offset [3] in joint k's body frame (metres) minimising pixel residuals on `mask`; trims outliers.
    Returns (offset, residual px [F] after the offset, NaN off mask)."""
    R = s.axes[:, k]  # [F, 3, 3] rows = axes in camera coords
    x = s.joints_cam[:, k]
    A = np.einsum("fpc,fac->fpa", _jacobian(x, s.focal), R)  # [F, 2, 3]: px per frame-metre
    r = s.mp2d[:, k] - s.exact2d[:, k]
    use = mask & np.isfinite(r).all(-1)
    o = np.zeros(3)
    for _ in range(iters):
        if use.sum() < 10:
            break
        o, *_ = np.linalg.lstsq(A[use].reshape(-1, 3), r[use].reshape(-1), rcond=None)
        res = np.linalg.norm(r - A @ o, axis=-1)
        keep = res < OUTLIER * s.body_px
        use = mask & np.isfinite(r).all(-1) & keep
    res = np.linalg.norm(r - A @ o, axis=-1)
    res[~(mask & np.isfinite(r).all(-1))] = np.nan
    return o, res


def _swaps(s: Samples, ok: np.ndarray) -> float:
    """Fraction of found frames where some left/right pair fits much better swapped (> 5 % of body)."""
    hit = np.zeros(len(ok), bool)
    for a, b in SWAP_PAIRS:
        ia, ib = INDEX[a], INDEX[b]
        straight = np.linalg.norm(s.mp2d[:, ia] - s.exact2d[:, ia], axis=-1) + np.linalg.norm(
            s.mp2d[:, ib] - s.exact2d[:, ib], axis=-1
        )
        swapped = np.linalg.norm(s.mp2d[:, ia] - s.exact2d[:, ib], axis=-1) + np.linalg.norm(
            s.mp2d[:, ib] - s.exact2d[:, ia], axis=-1
        )
        hit |= ok & (swapped + 0.05 * s.body_px < straight)
    return float(hit[ok].mean()) if ok.any() else 0.0


def measure(s: Samples) -> dict:
    """The landmark model of one MediaPipe model: per joint offset, its spread over clips and views, noise."""
    ok = s.found & np.isfinite(s.mp2d).all(axis=(1, 2))
    out: dict = {
        "frames": int(len(s.found)),
        "clips": int(len(np.unique(s.clip))),
        "miss_rate": float(1.0 - s.found.mean()),
        "swap_rate": _swaps(s, ok),
        "joints": {},
    }
    for name in MEASURED:
        k = INDEX[name]
        o, res = fit_offset(s, k, ok)
        rel = res / s.body_px
        per_clip = []
        for c in np.unique(s.clip[ok]):
            m = ok & (s.clip == c)
            if m.sum() >= 5:
                per_clip.append(fit_offset(s, k, m, iters=2)[0])
        views = {}
        for view, (lo, hi) in VIEWS.items():
            m = ok & (s.view_deg >= lo) & (s.view_deg < hi)
            if m.sum() >= 20:
                views[view] = [round(float(v), 4) for v in fit_offset(s, k, m)[0]]
        finite = np.isfinite(rel)
        inl = finite & (rel < OUTLIER)
        out["joints"][name] = {
            "offset_m": [round(float(v), 4) for v in o],
            "offset_std_clips_m": [round(float(v), 4) for v in np.std(per_clip, axis=0)] if per_clip else None,
            "offset_by_view_m": views,
            "noise_rel_median": float(np.median(rel[inl])) if inl.any() else None,
            "noise_rel_sigma": float(np.sqrt(np.mean(rel[inl] ** 2) / 2.0)) if inl.any() else None,  # per axis
            "outlier_rate": float(1.0 - inl.sum() / max(finite.sum(), 1)),
            "visibility_median": float(np.nanmedian(s.vis[ok, k])) if ok.any() else None,
        }
    return out


def table(model: dict, assumed: dict[str, str]) -> str:
    """Markdown: measured offsets (cm, body frame) and noise per joint beside what noise.py assumed."""
    lines = [
        "| joint | measured offset (a, b, c) cm | spread over clips cm | noise σ % body | outliers | assumed before |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in model["joints"].items():
        off = ", ".join(f"{100 * v:+.1f}" for v in m["offset_m"])
        spread = ", ".join(f"{100 * v:.1f}" for v in m["offset_std_clips_m"]) if m["offset_std_clips_m"] else "–"
        sig = f"{100 * m['noise_rel_sigma']:.2f}" if m["noise_rel_sigma"] is not None else "–"
        lines.append(
            f"| {name} | {off} | {spread} | {sig} | {100 * m['outlier_rate']:.1f} % | "
            f"{assumed.get(name, 'at the joint centre')} |"
        )
    return "\n".join(lines)


# What inference/training/noise.py assumed before it was measured (frame axes as in `frames`).
ASSUMED_BEFORE = {
    "LHip": "0-6 cm up, -1..3 cm out",
    "RHip": "0-6 cm up, -1..3 cm out",
    "Neck": "nose: 30-60 % of neck->head, 8-12 cm forward",
    "Head": "ear midpoint: 20-80 % of neck->head",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m inference fit-landmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--pairs", type=Path, default=Path("runs/rendered"), help="folder of rendered pairs (*.npz)")
    ap.add_argument("-o", "--out", type=Path, default=Path(__file__).with_name("landmark_model.json"))
    args = ap.parse_args(argv)
    paths = sorted(p for p in args.pairs.rglob("*.npz") if not p.name.startswith("."))
    if not paths:
        print(f"error: no rendered pairs under {args.pairs} (run `python -m addon.render_humans` first)")
        return 2
    result = {
        "source": f"{len(paths)} rendered clips",
        "frames_axes": frames.__doc__.split("\n\n")[1].strip(),
        "models": {m: measure(load(paths, m)) for m in MODELS},
    }
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(args.out)
    for m in MODELS:
        mm = result["models"][m]
        print(
            f"\n### MediaPipe {m}: {mm['frames']} key-frames of {mm['clips']} clips, missed "
            f"{100 * mm['miss_rate']:.1f} %, left/right swaps {100 * mm['swap_rate']:.1f} %\n"
        )
        print(table(mm, ASSUMED_BEFORE))
    print(f"\nwrote {args.out}")
    return 0
