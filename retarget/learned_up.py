"""The learned up cue: a small network that reads world up off the lifter's own output for a whole clip.

Why: the lifter's body leans with the camera (it flattens the pitch, docs/retarget.md), so up read off the
body by rule (gravity.body_cues) carries that lean. The virtual cameras of training know up exactly, so a
network trained on the lifter's output for them (inference/training/up_data.py, train_up.py; TRAIN-split
mocap only) learns how the lifted body leans and undoes it. The clip is cut into windows of `window` poses
`dt` apart, one every `hop` seconds; each is encoded by an MLP, the codes are pooled by learned attention
weights, and a head gives up and a one-sigma angle (scaled to be honest on held-out training clips).

Numpy only, like the rest of retarget (the add-on bundles no torch and no safetensors): the weights are a
safetensors file read by `read_safetensors`, a few lines of the (public, simple) format.
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "weights" / "learned_up.safetensors"
FORMAT = "uplift-learned-up-pooled"
_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) of a safetensors file: 8-byte header length, a JSON header, raw little-endian data."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + n :]
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=np.dtype(_DTYPES[h["dtype"]]).newbyteorder("<")).reshape(h["shape"])
    return out, meta


class UpNet:
    """The network (window encoder, attention pooling, head), its input normalisation and its settings."""

    def __init__(self, path: Path = WEIGHTS) -> None:
        t, meta = read_safetensors(path)
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a learned-up weights file (format {meta.get('format')!r})")
        self.window = int(meta["window"])
        self.dt = float(meta["dt_s"])
        self.hop = float(meta["hop_s"])
        self.sigma_scale = float(meta["sigma_scale"])
        self.mean, self.std = t["mean"].astype(np.float64), t["std"].astype(np.float64)
        self.p = {k: v.astype(np.float64) for k, v in t.items()}

    @property
    def span_s(self) -> float:
        """Seconds one window spans."""
        return (self.window - 1) * self.dt

    def features(self, rel: np.ndarray, fps: float) -> np.ndarray:
        """Windows [M, window*16*3] of the non-root joints, `window` poses dt apart (linear in time), every hop."""
        rel = np.asarray(rel, dtype=np.float64)[:, 1:]
        span = self.span_s
        dur = (len(rel) - 1) / fps
        starts = np.arange(0.0, max(dur - span, 0.0) + 1e-9, self.hop)
        t = (starts[:, None] + np.arange(self.window) * self.dt) * fps  # frame positions [M, window]
        t = np.clip(t, 0, len(rel) - 1)  # a clip shorter than a window repeats its last pose
        i0 = np.minimum(t.astype(int), max(len(rel) - 2, 0))
        i1 = np.minimum(i0 + 1, len(rel) - 1)
        w = (t - i0)[..., None, None]
        x = (1 - w) * rel[i0] + w * rel[i1]
        return x.reshape(len(starts), -1)

    def _lin(self, name: str, h: np.ndarray, act: bool = True) -> np.ndarray:
        h = h @ self.p[f"{name}.w"].T + self.p[f"{name}.b"]
        return h * 0.5 * (1.0 + np.tanh(0.7978845608 * (h + 0.044715 * h**3))) if act else h  # GELU (tanh form)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """Windows [M, D] of one clip -> (unit up [3] in camera coordinates, one-sigma angle in radians)."""
        h = self._lin("enc1", self._lin("enc0", (x - self.mean) / self.std))
        a = self._lin("att", h, act=False)[:, 0]
        a = np.exp(a - a.max())
        y = self._lin("head1", self._lin("head0", (a / a.sum()) @ h), act=False)
        return y[:3] / max(float(np.linalg.norm(y[:3])), 1e-9), float(np.exp(y[3]) * self.sigma_scale)


@lru_cache(maxsize=2)
def load(path: Path = WEIGHTS) -> UpNet | None:
    """The shipped network, or None when its file is missing (the rule-based cues still work)."""
    return UpNet(path) if Path(path).is_file() else None


def predict(rel: np.ndarray, fps: float, net: UpNet | None = None) -> tuple[np.ndarray, float, int]:
    """Clip up from pelvis-relative joints [T,17,3]: (unit up [3], one-sigma tilt in rad, windows used)."""
    net = net or load()
    if net is None or len(rel) < 2:
        raise ValueError("no learned-up network, or fewer than two frames")
    x = net.features(rel, fps)
    up, sigma = net(x)
    return up, sigma, len(x)
