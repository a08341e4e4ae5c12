"""OUT/manifest.json: what a batch did with every clip, rewritten atomically after each one finishes, so
a run that is interrupted or killed still says what is done; and the summary table printed at the end.

Each entry: {input, output, status: done|skipped|failed, error, seconds, ...details}; a clip the run did not
get to (stopped or killed first) is `failed` with an error saying so, and the next run resumes it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

NAME = "manifest.json"
EVERY_S = 2.0  # at most this often while running: 10,000 clips must not mean 10,000 rewrites of a 10 MB file
NOT_FINISHED = "not finished: the run stopped before this clip completed; run the same command again to resume"


class Manifest:
    def __init__(self, folder: Path, argv: list[str], runner: str) -> None:
        self.path = folder / NAME
        self.previous = _previous(self.path)
        self.head: dict[str, Any] = {
            "version": 1,
            "command": ["python", "-m", "addon.batch", *argv],
            "runner": runner,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "finished": None,
            "interrupted": False,
        }
        self.clips: list[dict[str, Any]] = []
        self._written = 0.0

    def add(self, input_: Path, output: Path | None, status: str, error: str = "", **extra: Any) -> int:
        entry = {"input": str(input_), "output": str(output) if output else None, "status": status, "error": error}
        entry["seconds"] = extra.pop("seconds", 0.0)
        old = self.previous.get(str(output)) if status == "skipped" and output is not None else None
        if old and old.get("status") in ("done", "skipped") and old.get("quality"):  # what the run that made it found
            extra.setdefault("quality", old["quality"])
            extra.setdefault("done_seconds", old.get("done_seconds") or old.get("seconds"))
        entry.update(extra)
        self.clips.append(entry)
        return len(self.clips) - 1

    def update(self, index: int, record: dict[str, Any]) -> None:
        self.clips[index].update(record)

    def counts(self) -> dict[str, int]:
        return {s: sum(c["status"] == s for c in self.clips) for s in ("done", "failed", "skipped")}

    def write_soon(self) -> None:
        """After a clip: written unless the last write was under EVERY_S ago. A run killed in between loses
        only those lines; the next run finds the outputs themselves and skips them."""
        if time.monotonic() - self._written >= EVERY_S:
            self.write()

    def write(self, final: bool = False, interrupted: bool = False) -> None:
        """Temp name + rename: a reader (or the next run) never sees half a manifest."""
        self._written = time.monotonic()
        if final:
            self.head["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.head["interrupted"] = interrupted
        doc = {**self.head, "counts": self.counts(), "clips": self.clips}
        tmp = self.path.with_name(f".{NAME}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(doc, indent=1, default=str))
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _previous(path: Path) -> dict[str, dict[str, Any]]:
    """The last run's entries by output path ({} when there is none or it cannot be read)."""
    try:
        doc = json.loads(path.read_text())
        return {c["output"]: c for c in doc.get("clips", []) if isinstance(c, dict) and c.get("output")}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def summary(clips: list[dict[str, Any]]) -> str:
    """The table printed at the end, one row per clip, and a count line."""
    rows = [("clip", "status", "frames", "keys", "time", "output / message")]
    for c in clips:
        detail = (c["output"] or "") if c["status"] == "done" else c["error"]
        if c.get("camera"):
            detail += f"  ({c['camera']})"
        if c["status"] == "done" and c.get("warnings"):
            detail += f"  (warning: {'; '.join(c['warnings'])})"
        seconds = c.get("seconds") or 0.0
        rows.append(
            (
                Path(c["input"]).name,
                c["status"],
                str(c.get("frames") or ""),
                str(c.get("keyframes") or ""),
                f"{seconds:.1f}s" if seconds else "",
                detail,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(r[:5], widths)) + "  " + r[5] for r in rows]
    n = {s: sum(c["status"] == s for c in clips) for s in ("done", "failed", "skipped")}
    lines.append(f"{n['done']} captured, {n['failed']} failed, {n['skipped']} skipped")
    return "\n".join(lines)
