"""Main-thread step after a successful capture: retarget onto the rig and write the keys (filled in below)."""
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Applied:
    armature: Any
    action: Any
    frames: int
    warnings: list[str] = field(default_factory=list)

    def summary(self, seconds: float) -> str:
        return f"Captured {self.frames} frames onto '{self.armature.name}' as action '{self.action.name}' in {seconds:.1f} s"


def apply_capture(context: Any, result: Any, options: Any) -> Applied:
    raise NotImplementedError
