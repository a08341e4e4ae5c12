"""How far to trust a capture: per-frame confidence, flagged frame ranges and summary metrics.

report.py  QualityReport / QualityMetrics, `assess()` (built for every capture), jitter, foot slide
flags.py   the flag kinds (lost, low_confidence, swap, identity, fast, cut_off, breathing) and their rules
plot.py    confidence and flags over time (matplotlib, only when asked for)
"""

from __future__ import annotations

from .flags import KINDS, Evidence, Flag
from .report import QualityMetrics, QualityReport, assess, bone_length_std, foot_slide, jitter

__all__ = [
    "KINDS",
    "Evidence",
    "Flag",
    "QualityMetrics",
    "QualityReport",
    "assess",
    "bone_length_std",
    "foot_slide",
    "jitter",
]
