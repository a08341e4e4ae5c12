"""The lifting network through ONNX Runtime: numpy in, numpy out, no torch.

Why: torch is hundreds of MB and cannot ship in the add-on's zip; the exported graph (made on the training
side by `python -m inference export-onnx`) is the same computation as `UpliftUpsample.forward_windows`.
The .onnx file sits beside the safetensors it was exported from and describes itself in its metadata: the
config (the same JSON as the safetensors'), and the sha256 of that safetensors file, so a stale export
(weights retrained, ONNX not re-exported) is refused instead of silently running old weights.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UpliftError, WeightsError
from .config import WORLD_FEATURES, UpliftConfig
from .weights import file_sha256, resolve_weights

FORMAT = "uplift-upsample-onnx"
INPUTS = ("poses", "index")  # float32 [K, 17, 2] normalised key-frame 2D; int64 [B, n_tok] into poses, -1 = none
WORLD_INPUT = "world"  # float32 [K, 17, 4], only in graphs of cfg.world_input models (poses.world_features)
OUTPUTS = ("seq", "centre")  # float32 [B, n_tok, 17, 3], [B, 17, 3]
META_FORMAT, META_CONFIG, META_SHA, META_SOURCE = "format", "config", "weights_sha256", "weights_file"
# device name -> the ONNX Runtime execution provider it asks for; 'auto' tries them in this order
GPU_PROVIDERS = {"cuda": "CUDAExecutionProvider", "dml": "DmlExecutionProvider", "coreml": "CoreMLExecutionProvider"}
_ALIASES = {"directml": "dml", "mps": "coreml"}
_CACHE: dict[tuple, OnnxLifter] = {}
_LOCK = threading.Lock()


def onnx_path_for(weights: Path) -> Path:
    """Where the export of a safetensors file lives: beside it, same stem."""
    return weights.with_suffix(".onnx")


def pick_providers(device: str, available: list[str]) -> list:
    """ONNX Runtime providers for a device name: 'auto' = every GPU provider this build has, then CPU;
    'cpu'; 'cuda' / 'cuda:N'; 'dml' (DirectML); 'coreml' ('mps' means CoreML too). CPU is always last."""
    name, _, idx = str(device).partition(":")
    name = _ALIASES.get(name, name)
    if name == "auto":
        return [p for p in GPU_PROVIDERS.values() if p in available] + ["CPUExecutionProvider"]
    if name == "cpu":
        return ["CPUExecutionProvider"]
    if name not in GPU_PROVIDERS:
        raise UpliftError(f"unknown device {device!r} for the ONNX backend: use auto, cpu, cuda[:N], dml or coreml")
    prov = GPU_PROVIDERS[name]
    if prov not in available:
        raise UpliftError(
            f"this onnxruntime build has no {prov} (it has {', '.join(available)}); install the "
            "GPU build (onnxruntime-gpu for CUDA, onnxruntime-directml on Windows) or use device='cpu'"
        )
    opts = {"device_id": int(idx)} if idx and name in ("cuda", "dml") else {}
    return [(prov, opts) if opts else prov, "CPUExecutionProvider"]


def read_metadata(path: Path) -> dict[str, str]:
    """The custom metadata of an ONNX file (the config, the source weights' hash), via ONNX Runtime."""
    return dict(_session(path, ["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map)


@dataclass
class OnnxLifter:
    """One ONNX Runtime session over the exported graph; `windows` is thread-safe (ORT's run is)."""

    cfg: UpliftConfig
    session: object
    path: Path

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def windows(
        self, poses: np.ndarray, index: np.ndarray, world: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        feeds = {INPUTS[0]: np.ascontiguousarray(poses, np.float32), INPUTS[1]: np.ascontiguousarray(index, np.int64)}
        if self.cfg.world_input:  # not given = all zeros, as the model saw 2D-only windows in training
            shape = poses.shape[:2] + (WORLD_FEATURES,)
            feeds[WORLD_INPUT] = (
                np.zeros(shape, np.float32) if world is None else np.ascontiguousarray(world, np.float32)
            )
        seq, centre = self.session.run(list(OUTPUTS), feeds)
        return seq, centre


def load_onnx(weights: str | Path | None = None, device: str = "auto") -> OnnxLifter:
    """The ONNX session for these weights (cached). `weights` is a safetensors file, whose .onnx beside it must
    carry its hash, or an .onnx file itself (used as it is). Raises WeightsError when the export is missing,
    stale or unreadable, UpliftError when onnxruntime is not installed or lacks the asked-for device."""
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise UpliftError(f"onnxruntime is not installed ({e}); install onnxruntime or use backend='torch'") from e
    src = resolve_weights(weights)
    path = src if src.suffix == ".onnx" else onnx_path_for(src)
    if not src.is_file():
        raise WeightsError(
            f"uplift model weights not found at {src}. Reinstall the add-on (the weights ship in "
            "inference/weights/) or pass weights=<file.safetensors or .onnx>."
        )
    if not path.is_file():
        raise WeightsError(
            f"no ONNX export of {src} (expected {path}); make it with "
            f"`python -m inference export-onnx --weights {src}`, or use backend='torch'."
        )
    providers = pick_providers(device, list(ort.get_available_providers()))
    sha = file_sha256(src) if path != src else None
    key = (str(path.resolve()), path.stat().st_mtime_ns, sha, repr(providers))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        session = _session(path, providers)
        meta = dict(session.get_modelmeta().custom_metadata_map)
        if meta.get(META_FORMAT) != FORMAT or META_CONFIG not in meta:
            raise WeightsError(
                f"{path} is not an Uplift-and-Upsample ONNX export (no config in its metadata); "
                "export it with `python -m inference export-onnx`."
            )
        if sha is not None and meta.get(META_SHA) != sha:
            raise WeightsError(
                f"{path} is stale: it was exported from other weights than {src} (sha256 "
                f"{str(meta.get(META_SHA))[:12]}… vs {sha[:12]}…). Re-export it with "
                f"`python -m inference export-onnx --weights {src}`, or use backend='torch'."
            )
        try:
            cfg = UpliftConfig.from_dict(json.loads(meta[META_CONFIG]))
        except (ValueError, TypeError) as e:
            raise WeightsError(f"{path} has an unreadable config in its metadata ({e}); re-export it.") from e
        lifter = OnnxLifter(cfg, session, path)
        _CACHE.clear()
        _CACHE[key] = lifter
        return lifter


def _ort_errors() -> tuple[type[BaseException], ...]:
    """ONNX Runtime's own exception classes (they derive from Exception directly), plus the Python ones."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = (
        "Fail",
        "InvalidArgument",
        "NoSuchFile",
        "NoModel",
        "InvalidProtobuf",
        "InvalidGraph",
        "RuntimeException",
        "NotImplemented",
        "EPFail",
    )
    return tuple(getattr(state, n) for n in names if hasattr(state, n)) + (RuntimeError, ValueError, OSError)


def _session(path: Path, providers: list):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # errors only: ORT warns about unused initializers and provider fallbacks
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    except _ort_errors() as e:
        raise WeightsError(
            f"cannot load the ONNX model {path}: {e}. The file is corrupt or was made by a newer "
            "exporter; reinstall the add-on or re-export it."
        ) from e
