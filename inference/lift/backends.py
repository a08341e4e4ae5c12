"""Which engine runs the network: ONNX Runtime (no torch, what the add-on ships) or torch (training, research).

Both expose the same two things to the lifter, so the window/grid logic in lifter.py is written once:
`cfg` (UpliftConfig) and `windows(poses [K,17,2], index [B,n_tok]) -> (seq [B,n_tok,17,3], centre [B,17,3])`,
numpy in and out. 'auto' prefers ONNX (smaller, no torch import) when onnxruntime is installed and the export
beside the weights matches them; otherwise torch, which also serves weights that were never exported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import UpliftError
from .config import UpliftConfig

BACKENDS = ("auto", "onnx", "torch")


class WindowModel(Protocol):
    cfg: UpliftConfig

    def windows(
        self, poses: np.ndarray, index: np.ndarray, world: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...


class TorchLifter:
    """The torch model behind the same numpy interface as OnnxLifter."""

    def __init__(self, model) -> None:
        self.model = model
        self.cfg = model.cfg
        self.device = next(model.parameters()).device

    def windows(
        self, poses: np.ndarray, index: np.ndarray, world: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.inference_mode():
            p = torch.from_numpy(np.ascontiguousarray(poses, np.float32)).to(self.device)
            i = torch.from_numpy(np.ascontiguousarray(index, np.int64)).to(self.device)
            w = None if world is None else torch.from_numpy(np.ascontiguousarray(world, np.float32)).to(self.device)
            seq, centre = self.model.forward_windows(p, i, w)
        return seq.cpu().numpy(), centre.cpu().numpy()


def get_backend(
    backend: str = "auto", weights: str | Path | None = None, device: str = "auto", torch_loader: Callable | None = None
) -> WindowModel:
    """The engine for `uplift(backend=...)`. 'auto': ONNX if it can run these weights, else torch; when neither
    can, the ONNX reason is raised (a WeightsError for a missing or stale export) with a note that torch is
    not installed. torch_loader: (weights, device) -> model, default weights.load_model (tests inject one)."""
    from .onnx_backend import load_onnx

    if backend not in BACKENDS:
        raise UpliftError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "onnx":
        return load_onnx(weights, device)
    if backend == "torch":
        return _torch(weights, device, torch_loader)
    try:
        return load_onnx(weights, device)
    except UpliftError as onnx_error:
        try:
            import torch  # noqa: F401 - only to know whether the fallback exists
        except ImportError:
            msg = f"{onnx_error} (torch, the fallback backend, is not installed either)"
            raise type(onnx_error)(msg) from onnx_error
        return _torch(weights, device, torch_loader)


def _torch(weights: str | Path | None, device: str, loader: Callable | None) -> TorchLifter:
    if loader is None:
        from .weights import load_model as loader
    try:
        import torch  # noqa: F401 - a clear message instead of an ImportError from deep inside
    except ImportError as e:
        raise UpliftError(f"backend='torch' needs torch, which is not installed ({e}); use backend='onnx'") from e
    if weights is not None and Path(weights).suffix == ".onnx":
        raise UpliftError(f"{weights} is an ONNX export: the torch backend needs the .safetensors weights")
    return TorchLifter(loader(weights, device))
