"""Delta debugging: the fewest items of a list that still make a test fail.

    found = minimize(items, attempt, deadline)
    keep, minimizer = fewest_departures(drawn, fails_the_same, deadline, tried)
        the same over a run's departures (labsim.choices): what
        ChoiceStream(keep=keep) makes is the smallest run found that fails
        the same way (pytest --sim-shrink's and raft-chaos --shrink's search)

attempt(subset) runs the test with only those items and returns None when
it does not fail the way wanted, else the items the run actually used (a
subset of what it was given: a run whose path changed may never meet some
of them, and the next tries start from what it used). minimize tries, in
turn:
  - the empty list (the calm run);
  - the shortest prefix that fails, by bisection (items are in the order
    the run made them: what came after the failure cannot matter, and a
    prefix replays the run exactly up to its end);
  - without each group of items (group_of(item), e.g. a kind), largest first;
  - Zeller's ddmin (ACM SIGSOFT 1999, "Yesterday, my program worked. Today,
    it does not. Why?"): split the items into n chunks; keep a chunk that
    fails alone, else the rest of a chunk that fails without it, else split
    finer;
  - passes that try each item's removal alone until a pass removes nothing.
Each distinct subset is tried once. At the deadline (a time.monotonic()
value) it stops and returns the smallest failing list found so far, which
is the input at worst.
"""

from __future__ import annotations

import time
from typing import (Any, Callable, Dict, FrozenSet, Hashable, List, Optional, Sequence, Tuple,
                    TypeVar)

from labsim.choices import ChoiceStream, Key

Item = TypeVar("Item", bound=Hashable)


class _TimeUp(Exception):
    pass


class Minimizer:
    """One minimization; tries counts the runs made (cache hits excluded)."""

    def __init__(self, attempt: Callable[[List[Item]], Optional[List[Item]]],
                 deadline: Optional[float] = None,
                 clock: Callable[[], float] = time.monotonic,
                 group_of: Optional[Callable[[Item], Hashable]] = None) -> None:
        self._attempt = attempt
        self._group_of = group_of
        self._deadline = deadline
        self._clock = clock
        self._seen: Dict[FrozenSet[Item], Optional[List[Item]]] = {}
        self.tries = 0
        self.timed_out = False
        self.best: List[Item] = []

    def _test(self, subset: List[Item]) -> Optional[List[Item]]:
        key = frozenset(subset)
        if key in self._seen:
            return self._seen[key]
        if self._deadline is not None and self._clock() >= self._deadline:
            raise _TimeUp
        self.tries += 1
        used = self._attempt(subset)
        if used is not None:
            used = list(used)   # (the caller's list is not kept)
            self._seen[frozenset(used)] = used
        self._seen[key] = used
        return used

    def minimize(self, items: Sequence[Item]) -> List[Item]:
        self.best = list(items)
        try:
            calm = self._test([])
            if calm is not None:
                self.best = calm
            else:
                items = self._prefix(self.best)
                items = self._groups(items)
                self._one_at_a_time(self._ddmin(items))
        except _TimeUp:
            self.timed_out = True
        return self.best

    def _prefix(self, items: List[Item]) -> List[Item]:
        failing, passing = len(items), 0
        while failing - passing > 1:
            middle = (failing + passing) // 2
            found = self._test(items[:middle])
            if found is not None:
                failing = middle
                self.best = found
            else:
                passing = middle
        return self.best if failing < len(items) else items

    def _groups(self, items: List[Item]) -> List[Item]:
        if self._group_of is None:
            return items
        sizes: Dict[Hashable, int] = {}
        for item in items:
            group = self._group_of(item)
            sizes[group] = sizes.get(group, 0) + 1
        if len(sizes) < 2:
            return items
        for group in sorted(sizes, key=lambda g: (-sizes[g], str(g))):
            found = self._test([item for item in items if self._group_of(item) != group])
            if found is not None:
                items = self.best = found
        return items

    def _ddmin(self, items: List[Item]) -> List[Item]:
        n = 2
        while len(items) >= 2:
            chunks = _split(items, n)
            found = None
            for chunk in chunks:
                found = self._test(chunk)
                if found is not None:
                    n = 2
                    break
            if found is None and n > 2:
                for skip in range(len(chunks)):
                    rest = [item for i, chunk in enumerate(chunks) if i != skip
                            for item in chunk]
                    found = self._test(rest)
                    if found is not None:
                        n = max(n - 1, 2)
                        break
            if found is not None:
                items = self.best = found
                continue
            if n >= len(items):
                break
            n = min(2 * n, len(items))
        return items

    def _one_at_a_time(self, items: List[Item]) -> List[Item]:
        changed = True
        while changed and items:
            changed = False
            for item in list(items):
                if item not in items:
                    continue
                found = self._test([other for other in items if other != item])
                if found is not None:
                    items = self.best = found
                    changed = True
        return items


def _split(items: List[Item], n: int) -> List[List[Item]]:
    """items in n chunks of (nearly) equal length, in order."""
    size, extra = divmod(len(items), n)
    chunks, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        chunks.append(items[start:end])
        start = end
    return [chunk for chunk in chunks if chunk]


def minimize(items: Sequence[Item], attempt: Callable[[List[Item]], Optional[List[Item]]],
             deadline: Optional[float] = None,
             group_of: Optional[Callable[[Item], Hashable]] = None) -> List[Item]:
    """The smallest failing subset of items found by the deadline; see the module doc."""
    return Minimizer(attempt, deadline, group_of=group_of).minimize(items)


def fewest_departures(drawn: ChoiceStream, fails_the_same: Callable[[ChoiceStream], bool],
                      deadline: float,
                      tried: Callable[[Optional[int]], None] = lambda departures: None
                      ) -> Tuple[Dict[Key, Any], Minimizer]:
    """The fewest of drawn's departures found by deadline with which a run, calm
    elsewhere, still fails the same way, as ChoiceStream's keep; and the
    Minimizer (its tries, whether it timed out).

    fails_the_same(stream) makes one run with stream (a ChoiceStream keeping
    some of the departures). tried(n) follows each try: n, the departures of
    a run that failed the same way, or None. Departures are removed a kind
    at a time first (all the late timers, all the lost messages, ...).
    """
    values = {d.key: d.value for d in drawn.departures}

    def attempt(keys: List[Key]) -> Optional[List[Key]]:
        stream = ChoiceStream(keep={key: values[key] for key in keys})
        if not fails_the_same(stream):
            tried(None)
            return None
        tried(len(stream.departures))
        return [d.key for d in stream.departures]

    minimizer = Minimizer(attempt, deadline=deadline, group_of=lambda key: key[0])
    keys = minimizer.minimize([d.key for d in drawn.departures])
    return {key: values[key] for key in keys}, minimizer
