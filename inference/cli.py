"""`python -m inference capture CLIP [--stride 10|auto] [-o out.npz] [--report r.json] [--plot r.png]`:
video -> 2D key-frames -> dense 3D joints, and a quality report (one line on stdout, JSON and plot on request).

Exit codes: 0 done; 2 a problem with the input or setup (message on stderr, no traceback); 130 interrupted.
A clip damaged part-way still exits 2, after writing what was captured before the damage (if >= 2 key-frames).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

os.environ.setdefault("GLOG_minloglevel", "2")  # before MediaPipe loads: keep its C++ log chatter off stderr
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from . import cli_args  # noqa: E402
from .errors import PartialCaptureError, UpliftError  # noqa: E402
from .result import CaptureResult  # noqa: E402


class ProgressBar:
    """One self-rewriting line on a terminal (stage, bar, frames/s, ETA); sparse plain lines otherwise."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self._stream, self.width = stream, width
        self.tty = self.stream.isatty()
        self.stage, self.t0, self.last, self.done0, self.width_used = "", 0.0, 0.0, 0, 0
        self.open = False  # a terminal line is waiting for its newline

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.stage:
            self.stage, self.t0, self.last, self.done0 = stage, now, 0.0, done
        if done < total and now - self.last < (0.2 if self.tty else 2.0):
            return
        self.last = now
        frac = min(1.0, done / total) if total > 0 else 0.0
        rate = (done - self.done0) / (now - self.t0) if now > self.t0 else 0.0
        eta = (total - done) / rate if rate > 0 and total > done else 0.0
        fill = int(round(frac * self.width))
        if stage == "pose2d":  # video frames through decode + 2D: the rate users compare between strides
            speed = f"{rate:6.1f} frames/s ETA {eta:4.0f}s" if now - self.t0 > 0.05 else ""
        else:
            speed = f"{now - self.t0:5.1f}s"
        line = f"{stage:7s} [{'#' * fill}{'.' * (self.width - fill)}] {done}/{total} {speed}".rstrip()
        if self.tty:
            self.open = done < total
            padded, self.width_used = line.ljust(self.width_used), len(line)  # erase a longer previous line
            self.stream.write("\r" + padded + ("" if self.open else "\n"))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr  # resolved late: _native_logs_silenced swaps sys.stderr

    def end_line(self) -> None:
        if self.open:
            self.open = False
            self.stream.write("\n")
            self.stream.flush()


@contextlib.contextmanager
def _native_logs_silenced(enabled: bool = True) -> Iterator[None]:
    """Send what C++ libraries (MediaPipe/absl, TFLite, FFmpeg) print on file descriptor 2 to the null
    device, while Python's sys.stderr (our progress, warnings and errors) keeps writing to the terminal.
    Only the CLI does this: a library must not touch process-wide descriptors."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    py_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding=py_stderr.encoding or "utf-8", errors="replace")
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = py_stderr
        os.dup2(saved, 2)
        os.close(saved)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m inference capture", description="Capture the 3D motion of one person in a video clip (.npz)."
    )
    ap.add_argument("clip", type=Path, help="video file (anything FFmpeg reads)")
    ap.add_argument("-o", "--output", type=Path, help="output .npz (default: <clip name>.npz in the current folder)")
    cli_args.add_capture_options(ap)
    ap.add_argument(
        "--report",
        type=Path,
        metavar="FILE.json",
        help="write the quality report (flags, confidence, metrics, key-frames) as JSON",
    )
    ap.add_argument("--plot", type=Path, metavar="FILE.png", help="plot confidence and flags over time")
    ap.add_argument(
        "--allow-download",
        action="store_true",
        help="download the pose model (sha256-checked) if it is not found locally",
    )
    ap.add_argument("--weights", type=Path, help="uplifting model weights (.safetensors); default: shipped")
    ap.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="engine for the 3D model: auto (default: ONNX Runtime if the export matches, else torch)",
    )
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    ap.add_argument(
        "-v", "--verbose", action="store_true", help="also show the native libraries' log output (MediaPipe, FFmpeg)"
    )
    return ap


def _summary(res: CaptureResult, out: Path | None) -> str:
    st, tm = res.stats, res.timings
    w, h = res.image_size
    dest = f" -> {out}" if out else ""
    stride = (
        f"stride auto, effective {st.frames / max(st.keyframes, 1):.1f}"
        if res.stride_mode == "auto"
        else f"stride {res.stride}"
    )
    return (
        f"{Path(res.source).name}: {st.frames} frames ({w}x{h}, {res.fps:.2f} fps), {st.keyframes} "
        f"key-frames ({stride}), person on {st.detected}/{st.keyframes}, "
        f"people seen {st.people_tracks}; decode {tm.decode:.1f}s, 2D {tm.pose2d:.1f}s, "
        f"3D {tm.uplift:.1f}s, total {tm.total:.1f}s{dest}"
    )


def _write_report(res: CaptureResult, args: argparse.Namespace) -> None:
    """--report JSON (written atomically) and --plot PNG, when asked for."""
    if res.report is None:
        return
    if args.report is not None:
        tmp = args.report.with_name(f".{args.report.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(res.report.to_json())
            os.replace(tmp, args.report)
        except OSError as exc:
            raise UpliftError(f"cannot write {args.report}: {exc}") from None
        finally:
            tmp.unlink(missing_ok=True)
    if args.plot is not None:
        from .quality.plot import plot_report

        plot_report(res.report, args.plot, title=f"{Path(res.source).name}: {res.report.summary()[9:]}"[:150])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _native_logs_silenced(not args.verbose):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    out = args.output or Path(args.clip.stem + ".npz")
    if out.suffix != ".npz":
        out = out.with_name(out.name + ".npz")
    bar = None if args.quiet else ProgressBar()
    try:
        for dest, flag in ((out, "-o"), (args.report, "--report"), (args.plot, "--plot")):
            if dest is None:
                continue
            if dest.exists() and not args.overwrite:
                raise UpliftError(f"{dest} already exists; pass --overwrite to replace it or choose another {flag}")
            if not dest.parent.resolve().is_dir():
                raise UpliftError(f"output folder {dest.parent} does not exist")
        from .pipeline import capture

        try:
            res = capture(
                args.clip,
                args.stride,
                pose_model=args.pose_model,
                person=args.person,
                frame_range=args.frames,
                device=args.device,
                weights=args.weights,
                progress=bar,
                max_people=args.max_people,
                allow_download=args.allow_download,
                backend=args.backend,
                hands=args.hands,
            )
        except PartialCaptureError as exc:
            if bar:
                bar.end_line()
            if exc.result is None:
                raise
            exc.result.save_npz(out, overwrite=args.overwrite)
            _write_report(exc.result, args)
            print(f"error: {exc}", file=sys.stderr)
            print(f"partial capture written: {_summary(exc.result, out)}", file=sys.stderr)
            return 2
        if bar:
            bar.end_line()
        res.save_npz(out, overwrite=args.overwrite)
        _write_report(res, args)
        for w in res.warnings:
            print(f"warning: {w}", file=sys.stderr)
        print(_summary(res, out))
        if res.report is not None:
            print(res.report.summary())
        return 0
    except UpliftError as exc:
        if bar:
            bar.end_line()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; nothing was written", file=sys.stderr)
        return 130
