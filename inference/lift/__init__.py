"""Lifting: sparse key-frame 2D -> dense 3D joints with the Uplift and Upsample transformer.

model.py    the architecture, one UpliftConfig, presets (torch)
lifter.py   `uplift()`: a whole clip through sliding windows at the model's rate
weights.py  the safetensors format: load (cached, no pickle), save, device choice
backends.py which engine runs the network: ONNX Runtime (onnx_backend.py, no torch) or torch
"""

from __future__ import annotations

from .backends import BACKENDS, get_backend
from .lifter import DEFAULT_HOP, uplift
from .onnx_backend import load_onnx
from .weights import DEFAULT_WEIGHTS, load_model, pick_device, save_weights

__all__ = [
    "BACKENDS",
    "DEFAULT_HOP",
    "DEFAULT_WEIGHTS",
    "get_backend",
    "load_model",
    "load_onnx",
    "pick_device",
    "save_weights",
    "uplift",
]
