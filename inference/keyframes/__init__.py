"""Which frames MediaPipe looks at: a fixed stride, or `stride="auto"` chosen by motion, and the passes
over the clip that decode them.

    auto.py    AutoStride and the pure key-frame rules (first pass, refining passes, even spacing)
    passes.py  one decode + MediaPipe pass over a set of frames (KeyframePass), merged across passes
"""

from __future__ import annotations

from .auto import AutoStride, effective_stride, even_keys, first_pass, interval_motion, refine, refine_loop

__all__ = ["AutoStride", "effective_stride", "even_keys", "first_pass", "interval_motion", "refine", "refine_loop"]
