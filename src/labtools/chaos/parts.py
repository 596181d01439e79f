"""What each part of the lab lets raft-chaos do to a cluster.

    FEATURES["2B"]           Features(commands=True, crashes=False, snapshots=False)
    chosen_parts(["2A,2C"])  -> ["2A", "2C"]; PartsError naming what was wrong

A part's seeds use what that part's code must handle, and what the parts
before it handle: 2A elections alone (no command is ever started), 2B
commands through Start, 2C crashes and restarts from the persister, 2D
snapshots through the service's Snapshot. Any parts may be chosen (a
student who has done 2C may want 2A's seeds only); each seed runs one of
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List

from labtools.parts import PARTS, named_parts


@dataclass(frozen=True)
class Features:
    commands: bool
    crashes: bool
    snapshots: bool


FEATURES = {
    "2A": Features(commands=False, crashes=False, snapshots=False),
    "2B": Features(commands=True, crashes=False, snapshots=False),
    "2C": Features(commands=True, crashes=True, snapshots=False),
    "2D": Features(commands=True, crashes=True, snapshots=True),
}
assert set(FEATURES) == set(PARTS), "every part of the lab needs its features"


def chosen_parts(values: Iterable[str]) -> List[str]:
    """The parts named by values (each one part or a comma list), in lab order."""
    return named_parts(values)
