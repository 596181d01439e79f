"""labsim's scheduling strategies, on their own: which thread each picks."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from labsim.strategies import PCT, TURN_STEPS, RandomWalk, make_strategy


@dataclass(eq=False)
class Thread:
    order: int
    runnable: bool = True


def _pct_with(threads, change):
    pct = PCT(random.Random(1), depth=2, steps=1000)
    pct._changes = {change: 1}  # one change point, where the test wants it
    for thread in threads:
        pct.spawned(thread)
    return pct, sorted(threads, key=lambda t: pct._priority[t.order], reverse=True)


def test_pct_keeps_the_turn_until_the_thread_waits_runs_out_or_hits_a_change():
    threads = [Thread(0), Thread(1), Thread(2)]
    change = 3 * TURN_STEPS
    pct, (high, middle, low) = _pct_with(threads, change)
    # The running thread keeps going, outranked or not, as under CPython...
    for step in range(1, TURN_STEPS):
        assert pct.pick(threads, step, current=low) is low
    # ... until its turn has lasted TURN_STEPS points,
    assert pct.pick(threads, TURN_STEPS, current=low) is high
    # or it waits: then the highest-priority runnable thread goes next.
    assert pct.pick([middle, low], TURN_STEPS + 1) is middle
    assert pct.pick(threads, TURN_STEPS + 2) is high
    # A change point ends the turn and drops the running thread below all.
    assert pct.pick(threads, change, current=high) is middle
    assert pct.pick([high, low], change + TURN_STEPS + 1) is low


def test_pct_counts_a_turn_from_when_another_thread_wants_to_run():
    threads = [Thread(0), Thread(1), Thread(2)]
    pct, (high, middle, low) = _pct_with(threads, 100 * TURN_STEPS)
    assert pct.pick(threads, 1, current=low) is low
    # low then ran alone (no pick was asked) for longer than a turn: its
    # turn counts from the next point where another thread wants to run.
    later = 10 * TURN_STEPS
    for step in range(later, later + TURN_STEPS):
        assert pct.pick(threads, step, current=low) is low
    assert pct.pick(threads, later + TURN_STEPS, current=low) is high


def test_pct_hands_the_turn_to_a_started_thread_then_back_to_its_starter():
    threads = [Thread(0), Thread(1), Thread(2)]
    pct, (high, middle, low) = _pct_with(threads, 100 * TURN_STEPS)
    assert pct.pick(threads, 1) is high
    # low starts middle: middle runs first, as CPython's start() waits for it.
    begin = 2 * TURN_STEPS
    assert pct.pick(threads, begin, current=low, started=middle) is middle
    assert pct.pick(threads, begin + 1, current=middle) is middle
    # When middle waits, its starter runs next, though high outranks it,
    assert pct.pick([high, low], begin + 2) is low
    # for a whole turn of its own.
    for step in range(begin + 3, begin + 2 + TURN_STEPS):
        assert pct.pick([high, low], step, current=low) is low
    assert pct.pick([high, low], begin + 2 + TURN_STEPS, current=low) is high
    # The debt is paid once: the next turn goes by priority again.
    assert pct.pick([middle, low], begin + 3 + TURN_STEPS) is middle
    # A starter that cannot run when its turn comes (it was killed, or
    # taken out of the run) is passed over, and owed nothing after.
    begin = 10 * TURN_STEPS
    assert pct.pick(threads, begin, current=low, started=middle) is middle
    low.runnable = False
    assert pct.pick([high], begin + 1) is high
    low.runnable = True
    assert pct.pick([middle, low], begin + 2) is middle


def test_turn_length_is_the_switch_interval_in_points_at_the_step_cost():
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
