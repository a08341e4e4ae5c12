"""Who is who over the key-frames, and whom to capture.

`PeopleTracker` links the people seen on successive key-frames into tracks by nearest-position matching,
and `choose_track` picks the performer by a rule after the pass, so the choice uses the whole clip rather
than whoever happened to be found first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .assignment import min_cost_assignment
from .detector import Detection


@dataclass
class Track:
    """One person over the key-frames: key-frame slot -> detection."""

    ident: int
    items: dict[int, Detection] = field(default_factory=dict)
    last_slot: int = -1
    last_frame: int = 0

    @property
    def last(self) -> Detection:
        return self.items[self.last_slot]


class PeopleTracker:
    """Links detections over key-frames: optimal assignment on torso-centre distance (in body heights) plus
    scale change, gated by how far a person can plausibly move in the frames elapsed since last seen
    (0.5 body heights + 0.03 per frame, at most 2: a sprinter at 30 fps moves ~0.1 per frame, so a fast
    mover seen rarely may start a new track - losing frames is better than jumping to someone else)."""

    def __init__(self, gate: float = 0.5, gate_per_frame: float = 0.03, gate_max: float = 2.0) -> None:
        self.tracks: list[Track] = []
        self.gate, self.gate_per_frame, self.gate_max = gate, gate_per_frame, gate_max

    def update(self, slot: int, frame: int, people: list[Detection]) -> None:
        cost = np.full((len(self.tracks), len(people)), np.inf)
        for i, tr in enumerate(self.tracks):
            prev = tr.last
            gate = min(self.gate + self.gate_per_frame * (frame - tr.last_frame), self.gate_max)
            for j, p in enumerate(people):
                c = np.linalg.norm(p.center - prev.center) / max(prev.scale, p.scale) + 0.5 * abs(
                    math.log(p.scale / prev.scale)
                )
                if c <= gate:
                    cost[i, j] = c
        matched: set[int] = set()
        if cost.size:
            rows, cols = min_cost_assignment(np.where(np.isfinite(cost), cost, 1e9))
            for i, j in zip(rows, cols):
                if np.isfinite(cost[i, j]):
                    self._add(self.tracks[i], slot, frame, people[j])
                    matched.add(j)
        for j, p in enumerate(people):
            if j not in matched:
                tr = Track(len(self.tracks))
                self.tracks.append(tr)
                self._add(tr, slot, frame, p)

    @staticmethod
    def _add(tr: Track, slot: int, frame: int, p: Detection) -> None:
        tr.items[slot] = p
        tr.last_slot, tr.last_frame = slot, frame


def choose_track(
    tracks: list[Track], rule: str | int, image_size: tuple[int, int], weights: Mapping[int, float] | None = None
) -> Track | None:
    """The performer. "largest": most image area over the clip (body size summed over the key-frames where
    seen, so a big, long-present subject beats a passer-by crossing near the lens); "central": closeness to
    the image centre summed the same way; int k: the k-th largest (0 = "largest").
    weights: slot -> frames that key-frame stands for, when key-frames are unevenly spaced (stride "auto"
    samples busy stretches densely; without weights whoever is seen there would count more)."""
    if not tracks:
        return None
    w, h = image_size
    centre, half_diag = np.array([w / 2, h / 2]), 0.5 * math.hypot(w, h)

    def wt(slot: int) -> float:
        return 1.0 if weights is None else float(weights.get(slot, 1.0))

    def area(tr: Track) -> float:
        return sum(d.size * wt(s) for s, d in tr.items.items())

    def centrality(tr: Track) -> float:
        return sum(max(0.0, 1.0 - np.linalg.norm(d.center - centre) / half_diag) * wt(s) for s, d in tr.items.items())

    if rule == "largest":
        return max(tracks, key=area)
    if rule == "central":
        return max(tracks, key=centrality)
    if isinstance(rule, (int, np.integer)) and not isinstance(rule, bool):
        ranked = sorted(tracks, key=area, reverse=True)
        return ranked[int(rule)] if 0 <= int(rule) < len(ranked) else None
    raise ValueError(f"person must be 'largest', 'central' or a rank (int >= 0), not {rule!r}")
