"""Where the network's faults come from: one replaceable source of choices.

    labrpc.faults.source            the source in use (a RandomFaults at first)
    labrpc.faults.use(source)       draw every later fault from source (None:
                                    from the global random again)

A source answers, for one call, each question the network asks on its way
(labrpc.Network._process), in this order:

    timeout_ms(call, limit)         no server to reach: how long the caller
                                    waits before Call returns False (0..limit-1)
    delay_ms(call, limit)           unreliable: how long the request is held
    dropped(call, which, per_mille) unreliable: is the "request" / "reply" lost
    reordered(call, per_900)        long reordering: does the reply come late
    reorder_ms(call, minimum, spread)   a late reply: how late (ms)

call is a CallPath: who calls (src, the end's "src" label, else the end's
name), which server (dst), which method. RandomFaults draws each answer from
the global random exactly as the Go lab's labrpc does, in the same order, so
a seeded random gives the same faults. A simulation that wants to see or edit
the faults (labsim's shrinker) puts in a source of its own; labrpc knows
nothing of it.
"""

from __future__ import annotations

import random
from typing import Any, Hashable, NamedTuple, Optional

__all__ = ["CallPath", "RandomFaults", "source", "use"]


class CallPath(NamedTuple):
    """Where one call goes: the end's src label (or its name), the server, the method."""

    src: Any
    dst: Hashable
    method: str


class RandomFaults:
    """The network's faults drawn from the global random (the default source)."""

    def timeout_ms(self, call: CallPath, limit: int) -> int:
        return random.randrange(limit)

    def delay_ms(self, call: CallPath, limit: int) -> int:
        return random.randrange(limit)

    def dropped(self, call: CallPath, which: str, per_mille: int) -> bool:
        return random.randrange(1000) < per_mille

    def reordered(self, call: CallPath, per_900: int) -> bool:
        return random.randrange(900) < per_900

    def reorder_ms(self, call: CallPath, minimum: int, spread: int) -> int:
        # Mostly short, sometimes long: the spread itself is drawn first.
        widest = random.randrange(spread)
        return minimum + random.randrange(1 + widest)


source: Any = RandomFaults()


def use(new_source: Optional[Any]) -> None:
    """Draw every later fault from new_source (None: the global random again)."""
    global source
    source = RandomFaults() if new_source is None else new_source
