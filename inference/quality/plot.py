"""`--plot FILE.png`: confidence and flags over time, so the seconds to distrust are seen at a glance.

matplotlib is imported here only (the CLI's --plot); the add-on never needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import UpliftError
from .report import KINDS, QualityReport

COLOURS = {
    "lost": "#d62728",
    "low_confidence": "#ff7f0e",
    "swap": "#9467bd",
    "identity": "#8c564b",
    "fast": "#1f77b4",
    "cut_off": "#e377c2",
    "breathing": "#2ca02c",
}


def plot_report(report: QualityReport, path: str | os.PathLike, title: str = "") -> Path:
    """Two panels over clip frames: confidence (key-frames marked) and one lane per flag kind."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UpliftError("--plot needs matplotlib (pip install matplotlib)") from None
    path = Path(path)
    x0 = report.frame_start
    t = np.arange(report.frames) + x0
    fig, (ax, lanes) = plt.subplots(
        2, 1, figsize=(10, 4.2), dpi=110, sharex=True, gridspec_kw={"height_ratios": [2, 1.4]}
    )
    ax.plot(t, report.confidence, color="black", lw=1.2, label="confidence (interpolated)")
    if len(report.keyframes):
        kc = report.keyframe_confidence if len(report.keyframe_confidence) == len(report.keyframes) else None
        ax.plot(
            report.keyframes + x0,
            kc if kc is not None else np.ones(len(report.keyframes)),
            "|",
            color="#555555",
            ms=8,
            label=f"key-frames ({len(report.keyframes)})",
        )
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("MediaPipe\nconfidence")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title or report.summary().replace("quality: ", "")[:140], fontsize=8)
    for lane, kind in enumerate(KINDS):
        for f in (f for f in report.flags if f.kind == kind):
            lanes.broken_barh(
                [(f.start_frame + x0 - 0.5, f.frames)], (lane - 0.4, 0.8), color=COLOURS.get(kind, "grey")
            )
            ax.axvspan(
                f.start_frame + x0 - 0.5, f.end_frame + x0 + 0.5, color=COLOURS.get(kind, "grey"), alpha=0.08, lw=0
            )
    lanes.set_yticks(range(len(KINDS)), KINDS, fontsize=8)
    lanes.set_ylim(len(KINDS) - 0.5, -0.5)
    lanes.set_xlim(x0 - 0.5, x0 + report.frames - 0.5)
    lanes.set_xlabel("frame")
    lanes.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise UpliftError(f"cannot write {path}: {exc}") from None
    finally:
        plt.close(fig)
    return path
