"""The shipped weights: safetensors with the config in the metadata, loaded without pickle, cached per device.

One place decides the file format (`FORMAT` in the metadata, the config as JSON, fp16 tensors), for both
the training side's export and every load.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import WeightsError

FORMAT = "uplift-upsample"
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "uplift_compact.safetensors"
_CACHE: dict[tuple, object] = {}
_LOCK = threading.Lock()


def pick_device(device: str = "auto"):
    """'auto' -> CUDA, then Apple MPS, then CPU; anything else is passed to torch.device."""
    import torch

    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def load_model(weights: str | Path | None = None, device: str = "auto"):
    """Load (and cache) the model from a safetensors file whose metadata holds the config. No pickle."""
    from safetensors import SafetensorError, safe_open

    from .model import UpliftConfig, UpliftUpsample

    path = Path(weights or os.environ.get("UPLIFT_WEIGHTS") or DEFAULT_WEIGHTS)
    dev = pick_device(device)
    if not path.is_file():
        raise WeightsError(
            f"uplift model weights not found at {path}. Reinstall the add-on (the weights ship "
            "in inference/weights/) or pass weights=<file.safetensors>."
        )
    key = (str(path.resolve()), path.stat().st_mtime_ns, str(dev))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                state = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError) as e:
            raise WeightsError(
                f"cannot read uplift model weights {path}: {e}. The file is corrupt or not a "
                "safetensors file; reinstall the add-on or re-export the weights."
            ) from e
        if meta.get("format") != FORMAT or "config" not in meta:
            raise WeightsError(
                f"{path} is not an Uplift-and-Upsample weights file (no config in its metadata); "
                "export weights with `python -m inference train --export`."
            )
        try:
            cfg = UpliftConfig.from_dict(json.loads(meta["config"]))
            model = UpliftUpsample(cfg)
            model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
        except (ValueError, RuntimeError, TypeError) as e:
            raise WeightsError(
                f"weights {path} do not match the model architecture ({e}). They were made by "
                "a different version; use the weights shipped with this version."
            ) from e
        model.eval().to(dev)
        _CACHE.clear()
        _CACHE[key] = model
        return model


def save_weights(
    state: dict[str, Any], cfg: Any, path: str | Path, fp16: bool = True, extra: dict[str, Any] | None = None
) -> Path:
    """Write weights as safetensors, atomically; the config (JSON) and `extra` go in the metadata, so no
    other file is needed to load them."""
    from safetensors.torch import save_file

    tensors = {k: (v.half() if fp16 and v.dtype.is_floating_point else v).contiguous().cpu() for k, v in state.items()}
    meta = {"format": FORMAT, "config": json.dumps(cfg.to_dict())}
    meta.update({k: str(v) for k, v in (extra or {}).items()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
