"""Seeds: the default seed of a test, and lists of seeds from the command line.

    seed_for("TestInitialElection2A")   stable across processes and runs
                                        (sha256, not Python's salted hash())
    parse_seeds("1-100"), parse_seeds("7"), parse_seeds("1,5,10-12")
"""

from __future__ import annotations

import hashlib
from typing import List


def seed_for(name: str) -> int:
    """A seed derived from a name, the same in every process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % 1_000_000


def parse_seeds(text: str) -> List[int]:
    """"A-B" (inclusive), "N", or a comma-separated list of either."""
    seeds: List[int] = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                low, high = part.split("-", 1) if not part.startswith("-") else (part, "")
                a, b = int(low), int(high)
                if b < a:
                    raise ValueError
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ValueError(f"bad seed list {text!r}: expected N, A-B (A <= B) or a "
                             "comma-separated list of those") from None
    return seeds
