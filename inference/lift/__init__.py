"""Lifting: sparse key-frame 2D -> dense 3D joints with the Uplift and Upsample transformer.

model.py    the architecture, one UpliftConfig, presets (torch)
lifter.py   `uplift()`: a whole clip through sliding windows at the model's rate
weights.py  the safetensors format: load (cached, no pickle), save, device choice
"""

from __future__ import annotations

from .lifter import DEFAULT_HOP, uplift
from .weights import DEFAULT_WEIGHTS, load_model, pick_device, save_weights

__all__ = ["DEFAULT_HOP", "DEFAULT_WEIGHTS", "load_model", "pick_device", "save_weights", "uplift"]
