"""labsim's scheduling strategies, on their own: which thread each picks."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from labsim.strategies import PCT, RandomWalk, make_strategy


@dataclass(eq=False)
class Thread:
    order: int


def test_pct_runs_the_highest_priority_thread_until_a_change_point():
    threads = [Thread(0), Thread(1), Thread(2)]
    pct = PCT(random.Random(1), depth=2, steps=1000)
    for thread in threads:
        pct.spawned(thread)
    (change, _), = pct._changes.items()
    high, middle, low = sorted(threads, key=lambda t: pct._priority[t.order], reverse=True)
    for step in range(1, change):
        assert pct.pick(threads, step, current=low) is high
    # At the change point the running thread drops below all others.
    assert pct.pick(threads, change, current=high) is middle
    assert pct.pick([high, low], change + 1) is low


def test_random_walk_preempts_sometimes_and_picks_others_uniformly():
    threads = [Thread(i) for i in range(4)]
    walk = RandomWalk(random.Random(5))
    picks = [walk.pick(threads, step, current=threads[0]) for step in range(4000)]
    stayed = picks.count(threads[0]) / len(picks)
    assert 0.70 < stayed < 0.80  # PREEMPT_CHANCE is 1/4
    others = [picks.count(t) for t in threads[1:]]
    assert min(others) > 0.25 * max(others)


def test_same_seed_same_choices_and_bad_names_refused():
    threads = [Thread(i) for i in range(5)]
    runs = []
    for _ in range(2):
        strategy = make_strategy("pct", 42)
        for thread in threads:
            strategy.spawned(thread)
        runs.append([strategy.pick(threads, step).order for step in range(1, 500)])
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="unknown simulation strategy 'fifo'"):
        make_strategy("fifo", 1)
