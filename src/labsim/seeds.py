"""Seeds: the default seed of a test, and lists of seeds from the command line.

    seed_for("TestInitialElection2A")   stable across processes and runs
                                        (sha256, not Python's salted hash())
    parse_seeds("100")                  seeds 1..100 (a bare N is a count)
    parse_seeds("1-100"), parse_seeds("1,5,10-12")
    is_count("100")                     whether the text is a bare N

A bare N means the N seeds 1..N everywhere a list of seeds is taken
(`pytest --sim-seeds`, `raft-stress --seeds`, the grader's `--sim-seeds`): the
question behind it is "how many seeds?". One seed alone is `--sim-seed N`,
or the list "N-N". Inside a comma list a number is that one seed.
"""

from __future__ import annotations

import hashlib
from typing import List


def seed_for(name: str) -> int:
    """A seed derived from a name, the same in every process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % 1_000_000


def is_count(text: str) -> bool:
    """Whether text is a bare N (the seeds 1..N), not a range or a list."""
    return str(text).strip().isdigit()


def parse_seeds(text: str) -> List[int]:
    """"N" (the seeds 1..N), "A-B" (inclusive), or a comma-separated list of
    single seeds and ranges."""
    problem = (f"bad seed list {text!r}: expected N (the seeds 1..N), A-B (A <= B) or a "
               "comma-separated list of seeds and ranges")
    if is_count(text):
        count = int(str(text).strip())
        if count < 1:
            raise ValueError(problem)
        return list(range(1, count + 1))
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
            raise ValueError(problem) from None
    return seeds
