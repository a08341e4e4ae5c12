"""Mocap loading for training/evaluation: resampling, glitch repair, consistent joint targets, split.

Source: `../shared/data/mocap/h36m17/*.npz` (metres, world, +Y up, native fps). Nothing is committed.

Joint targets (what the model is trained to output) are made consistent across sources, because the
sources disagree on torso and head landmarks (see the mocap README):
  * Pelvis  = midpoint of the hips (already so in every source).
  * Thorax  := midpoint of the shoulders (sources put it anywhere from mid-chest to the neck base).
  * Spine   := midpoint of Pelvis and Thorax (source spines vary 146-258 mm above the pelvis).
  * Neck    = the source's head-base joint, Head = the source's head-top/end joint; where a source's
    Neck->Head is shorter than 6 cm (reactidle: 3 cm) Head is extended along the same direction to 10 cm.
  * cmu_salsa_daz is scaled x1.35 (its rig is ~0.75x adult size).
Glitches: any frame where a root-relative joint moves > 15 cm in one native frame (CMU joint flips) cuts the
clip there; pieces shorter than 1 s are dropped. Clips are then resampled (linear) to the model rate.
Split: a clip is in val iff crc32(clip name) % 8 == 0 (fixed, ~12 % of clips, every source represented).
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..skeleton import INDEX

DEFAULT_MOCAP = (
    Path(os.environ.get("UPLIFT_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "data" / "mocap" / "h36m17"
)
SOURCE_SCALE = {"cmu_salsa_daz": 1.35}
# Relative sampling weight per frame: reactidle is 37 of 65 minutes of standing idle.
SOURCE_WEIGHT = {"reactidle": 0.12}
GLITCH_M = 0.15


@dataclass
class Clip:
    name: str
    source: str
    joints: np.ndarray  # [T, 17, 3] metres, world, +Y up, at the model rate


def is_val(name: str) -> bool:
    return zlib.crc32(name.encode()) % 8 == 0


def canonical_targets(j: np.ndarray) -> np.ndarray:
    """Make torso/head joints mean the same in every source (see module docstring). [..., 17, 3] -> copy."""
    j = np.array(j, dtype=np.float32, copy=True)
    i = INDEX
    j[..., i["Pelvis"], :] = 0.5 * (j[..., i["LHip"], :] + j[..., i["RHip"], :])
    j[..., i["Thorax"], :] = 0.5 * (j[..., i["LShoulder"], :] + j[..., i["RShoulder"], :])
    j[..., i["Spine"], :] = 0.5 * (j[..., i["Pelvis"], :] + j[..., i["Thorax"], :])
    head = j[..., i["Head"], :] - j[..., i["Neck"], :]
    length = np.linalg.norm(head, axis=-1, keepdims=True)
    if float(np.median(length)) < 0.06:
        j[..., i["Head"], :] = j[..., i["Neck"], :] + head / np.maximum(length, 1e-6) * 0.10
    return j


def split_glitches(j: np.ndarray, min_len: int) -> list[np.ndarray]:
    """Cut a native-rate clip at frames where a root-relative joint jumps > GLITCH_M; keep long pieces."""
    rel = j - j[:, :1]
    jump = np.linalg.norm(np.diff(rel, axis=0), axis=-1).max(axis=1) > GLITCH_M
    bad = np.flatnonzero(jump) + 1  # first frame after the jump starts a new piece
    bounds = np.concatenate([[0], bad, [len(j)]])
    return [j[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= min_len]


def resample(j: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linear resampling in time of [T, ...] from fps_in to fps_out."""
    t_in = np.arange(len(j)) / fps_in
    t_out = np.arange(0.0, t_in[-1] + 1e-9, 1.0 / fps_out)
    idx = np.clip(np.searchsorted(t_in, t_out, side="right") - 1, 0, len(j) - 2)
    w = ((t_out - t_in[idx]) * fps_in).astype(np.float32).reshape((-1,) + (1,) * (j.ndim - 1))
    return (1 - w) * j[idx] + w * j[idx + 1]


def load_clips(
    root: str | Path | None = None,
    fps: float = 30.0,
    split: str = "train",
    sources: list[str] | None = None,
    max_clips: int | None = None,
) -> list[Clip]:
    """Load, repair, canonicalise and resample clips of one split ("train", "val" or "all")."""
    root = Path(root or DEFAULT_MOCAP)
    index_path = root / "index.json"
    if not index_path.is_file():
        raise FileNotFoundError(f"mocap index not found: {index_path} (pass --mocap or set UPLIFT_SHARED)")
    index = json.loads(index_path.read_text())
    by_file: dict[str, list[dict]] = {}
    for e in index["clips"]:
        if sources and e["source"] not in sources:
            continue
        if split != "all" and is_val(e["clip"]) != (split == "val"):
            continue
        by_file.setdefault(e["source"], []).append(e)
    clips: list[Clip] = []
    for npz in sorted(root.glob("*_h36m17.npz")):
        with np.load(npz, allow_pickle=False) as z:
            for e in sorted(sum(by_file.values(), []), key=lambda e: e["clip"]):
                if e["clip"] not in z.files:
                    continue
                j = z[e["clip"]].astype(np.float32) * SOURCE_SCALE.get(e["source"], 1.0)
                if not np.isfinite(j).all():
                    continue
                for k, piece in enumerate(split_glitches(j, int(e["fps"]))):
                    piece = resample(canonical_targets(piece), float(e["fps"]), fps)
                    clips.append(Clip(f"{e['clip']}#{k}" if k else e["clip"], e["source"], piece))
                if max_clips and len(clips) >= max_clips:
                    return clips
    if not clips:
        raise FileNotFoundError(f"no clips for split {split!r} under {root}")
    return clips


def clip_weights(clips: list[Clip]) -> np.ndarray:
    """Per-clip sampling probability: proportional to length, reactidle down-weighted."""
    w = np.array([len(c.joints) * SOURCE_WEIGHT.get(c.source, 1.0) for c in clips], dtype=np.float64)
    return w / w.sum()


def torso_forward(j: np.ndarray) -> np.ndarray:
    """Unit facing direction of the body (world), [..., 17, 3] -> [..., 3]: up x (performer's right)."""
    right = j[..., INDEX["RHip"], :] - j[..., INDEX["LHip"], :]
    right = right + j[..., INDEX["RShoulder"], :] - j[..., INDEX["LShoulder"], :]
    up = j[..., INDEX["Thorax"], :] - j[..., INDEX["Pelvis"], :]
    f = np.cross(up, right)
    return f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-6)
