"""labsim's scheduling strategies, on their own: which thread each picks."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from labsim.strategies import PCT, RandomWalk, TURN_STEPS, make_strategy


@dataclass(eq=False)
class Thread:
    order: int


def _pct(threads, seed=1, turn_steps=10, depth=3, steps=1000):
    strategy = PCT(random.Random(seed), turn_steps=turn_steps, depth=depth, steps=steps)
    for thread in threads:
        strategy.spawned(thread)
    return strategy


def _by_priority(strategy, threads):
    return sorted(threads, key=lambda t: strategy._priority[t.order], reverse=True)


def test_pct_keeps_the_running_thread_for_its_turn():
    threads = [Thread(0), Thread(1), Thread(2)]
    pct = _pct(threads, depth=1)  # no change points
    high, _, low = _by_priority(pct, threads)
    assert pct.pick(threads, 1) is high  # a turn ended: the highest runs
    # The lowest, once running (the others waited), goes on though higher
    # threads are runnable again, until it has run its turn...
    assert pct.pick([low], 2) is low
    for step in range(3, 12):
        assert pct.pick(threads, step, current=low) is low
    # ...and then the highest runnable thread runs.
    assert pct.pick(threads, 12, current=low) is high


def test_pct_change_point_preempts_mid_turn_even_if_passed_unpicked():
    threads = [Thread(0), Thread(1)]
    pct = _pct(threads, turn_steps=10_000, depth=2)
    (change, _), = pct._changes
    high, low = _by_priority(pct, threads)
    assert pct.pick(threads, 1) is high
    # No pick happens at the change point itself (say, one thread alone
    # could run); the next pick after it still lowers the running thread.
    assert pct.pick(threads, change - 1, current=high) is high
    assert pct.pick(threads, change + 5, current=high) is low
    assert pct._priority[high.order] < pct._priority[low.order]


def test_turn_length_is_the_switch_interval_in_steps():
    assert TURN_STEPS == 200  # 5 ms at 25 us a point
    assert make_strategy("pct", 3, step_cost_s=50e-6).turn_steps == 100
    assert make_strategy("pct", 3, step_cost_s=0).turn_steps >= 1


def test_random_walk_preempts_sometimes_and_picks_others_uniformly():
    threads = [Thread(i) for i in range(4)]
    walk = RandomWalk(random.Random(5))
    picks = [walk.pick(threads, step, current=threads[0]) for step in range(4000)]
    stayed = picks.count(threads[0]) / len(picks)
    assert 0.70 < stayed < 0.80  # PREEMPT_CHANCE is 1/4
    others = [picks.count(t) for t in threads[1:]]
    assert min(others) > 0.25 * max(others) and sum(others) > 0


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
