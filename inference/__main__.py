"""`python -m inference <command> ...` — each command lives in its own module with `main(argv) -> int`."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "capture": ("inference.cli", "video -> 2D key-frames -> dense 3D joints (.npz)"),
    "evaluate": ("inference.training.evaluate", "evaluate the uplifting model on the validation split"),
    "evaluate-video": ("inference.training.evaluate_video", "real clips: steadiness of ours vs MediaPipe's own 3D"),
    "train": ("inference.training.train", "train the uplifting model on mocap"),
    "fetch-model": ("inference.pose2d.bundle", "download / locate the MediaPipe PoseLandmarker bundle"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m inference {" + ",".join(COMMANDS) + "} ...\n")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:12s} {text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
