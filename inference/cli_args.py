"""The command-line convention both CLIs share (`python -m inference capture`, `python -m addon.batch`).

One place for the option names, the value parsers (stride, person, frame range) and the list of video file
extensions, so the two command lines cannot drift apart. Only argparse here: cheap to import anywhere
(the add-on reaches it through `addon/_pkgs.py`; inference never imports the add-on).
"""

from __future__ import annotations

import argparse
from pathlib import Path

# Files a folder scan treats as clips (FFmpeg reads many more; a single named file of any type is tried).
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ogv", ".wmv")
VIDEO_GLOB = ";".join(f"*{s}" for s in VIDEO_SUFFIXES)  # Blender's file browser filter
DEVICES = ("auto", "cpu", "cuda", "mps")


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def person(text: str) -> str | int:
    """largest | central | a rank by size (0 = largest)."""
    text = text.strip().lower()
    if text in ("largest", "central"):
        return text
    try:
        rank = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected largest, central or a rank (0, 1, ...), not {text!r}") from None
    if rank < 0:
        raise argparse.ArgumentTypeError("the rank must be 0 or more")
    return rank


def _whole(text: str, expected: str) -> int:
    """`text` as an int of 1 or more, or an argparse error saying what was `expected`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def stride(text: str) -> int | str:
    """A whole number of frames (1 or more) or 'auto'."""
    if text.strip().lower() == "auto":
        return "auto"
    return _whole(text, "a number of frames or 'auto'")


def count(text: str) -> int:
    """A whole number, 1 or more."""
    return _whole(text, "a whole number")


def frames(text: str) -> tuple[int, int | None]:
    """START:STOP video frames, STOP exclusive and optional (30:300, 30:) - Python's slice form."""
    try:
        a, sep, b = text.partition(":")
        if not sep:
            raise ValueError
        start, stop = int(a or 0), (int(b) if b else None)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected START:STOP frame numbers, e.g. 30:300 or 30:, not {text!r}"
        ) from None
    if start < 0 or (stop is not None and stop <= start):
        raise argparse.ArgumentTypeError(f"need 0 <= START < STOP, got {text!r}")
    return start, stop


HANDS = ("off", "wrists", "fingers")


def add_capture_options(ap: argparse.ArgumentParser) -> None:
    """The options of one capture, spelled the same in both CLIs (dest names: stride, pose_model, person,
    max_people, frames, device)."""
    ap.add_argument(
        "-s",
        "--stride",
        type=stride,
        default=10,
        help="run 2D pose on every STRIDE-th frame (speed/quality knob, default 10), or 'auto': "
        "a sparse pass, then extra key-frames where the person moved",
    )
    ap.add_argument(
        "--pose-model",
        default="full",
        help="MediaPipe pose model: lite, full (default), heavy, or a .task file path",
    )
    ap.add_argument("--model", dest="pose_model", default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # old spelling
    ap.add_argument(
        "--person",
        type=person,
        default="largest",
        help="whom to capture when several people are visible: largest (default), central, "
        "or a rank by size (0 = largest)",
    )
    ap.add_argument(
        "--max-people",
        type=count,
        default=3,
        help="people to look for per frame (default 3; 1 is fastest for single-person clips)",
    )
    ap.add_argument(
        "--frames",
        type=frames,
        metavar="START:STOP",
        help="capture only these video frames (STOP exclusive, may be empty for the end: 30:300, 30:)",
    )
    ap.add_argument("--device", default="auto", choices=DEVICES, help="where the 3D model runs (default auto)")
    ap.add_argument(
        "--hands",
        choices=HANDS,
        default="wrists",
        help="off | wrists (default) | fingers: also run MediaPipe's hand model on the key-frames and key fingers",
    )
    ap.add_argument("--overwrite", action="store_true", help="replace existing output files")
