"""Scheduling strategies: which runnable thread goes next, and how late a
wake-up may come.

One small interface (Strategy):
    spawned(rec)                  a new thread joined the run
    pick(runnable, step, current) the next thread; runnable is sorted by
                                  creation order, never by wake-up order, so
                                  the hash order of sets cannot leak in;
                                  current is the running thread if it may go on
    late_by()                     extra delay (s) for a thread woken by another
    timer_late_by()               extra delay (s) for a sleeper's deadline

    RandomWalk  at each synchronisation point, preempt the running thread
                with probability PREEMPT_CHANCE; when it waits, a uniform choice
    PCT         random priorities with d - 1 change points (Burckhardt et
                al., ASPLOS 2010): when the running thread waits, has run a
                switch interval, or reaches a change point (where it drops
                below all others), the highest-priority runnable thread runs

Both perturb time the same way. A thread woken by another (a message
delivered, a lock handed over) comes up to perturb_s later (default 5 ms,
the GIL's switch interval: a real thread can wait that long for the
interpreter), with a probability drawn once per run from LATE_CHANCES:
an idle machine to a loaded one, where every message is a little late.
A sleeper's deadline comes at most TIMER_JITTER_S late (timers are
precise even on a loaded machine): timers set together stay together,
and a message can arrive after them, which is how the real lab meets
split votes and stale replies. Bugs that need two timers to fire
within a few milliseconds, or a reply overtaken by a timer, need this:
the order of runnable threads alone never changes when a timer fires.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List

from labsim.clock import DEFAULT_STEP_COST_S

DEFAULT_PERTURB_S = 0.005
LATE_CHANCES = (0.0, 0.1, 0.5, 1.0)
TIMER_JITTER_S = 0.0002
PREEMPT_CHANCE = 0.25
PCT_DEPTH = 3
PCT_STEPS = 200_000  # the run length PCT spreads its change points over
# CPython's switch interval (sys.getswitchinterval()): how long the running
# thread keeps the interpreter while others wait for it.
SWITCH_INTERVAL_S = 0.005
TURN_STEPS = round(SWITCH_INTERVAL_S / DEFAULT_STEP_COST_S)

NAMES = ("random", "pct")


class Strategy:
    name = "?"

    def __init__(self, rng: random.Random, perturb_s: float = DEFAULT_PERTURB_S) -> None:
        if perturb_s < 0:
            raise ValueError(f"time perturbation must be >= 0 s, got {perturb_s!r}")
        self.rng = rng
        self.perturb_s = perturb_s
        # How loaded this run's machine seems: the chance that a wake-up
        # comes late, drawn once per run (from an idle machine to one where
        # every thread waits for the interpreter).
        self.late_chance = rng.choice(LATE_CHANCES)

    def spawned(self, rec: Any) -> None:
        pass

    def pick(self, runnable: List[Any], step: int, current: Any = None) -> Any:
        """current: the running thread, when it could go on running."""
        raise NotImplementedError

    def late_by(self) -> float:
        if self.perturb_s and self.rng.random() < self.late_chance:
            return self.rng.random() * self.perturb_s
        return 0.0

    def timer_late_by(self) -> float:
        if self.perturb_s and self.late_chance:
            return self.rng.random() * min(TIMER_JITTER_S, self.perturb_s)
        return 0.0


class RandomWalk(Strategy):
    """At a point where the running thread could go on, it is preempted with
    probability PREEMPT_CHANCE (for a thread chosen uniformly among the others);
    when it waits, the next thread is chosen uniformly. Real threads under
    the GIL mostly run until they wait, so most points are not preemptions;
    fewer switches also make a run cheaper."""

    name = "random"

    def pick(self, runnable: List[Any], step: int, current: Any = None) -> Any:
        count = len(runnable)
        if count == 1:
            return runnable[0]
        rng = self.rng
        if current is None:
            return runnable[rng.randrange(count)]
        if rng.random() >= PREEMPT_CHANCE:
            return current
        other = runnable[rng.randrange(count - 1)]
        if other is current:
            other = runnable[count - 1]
        return other


class PCT(Strategy):
    """PCT over the turns CPython gives its threads. A real thread keeps the
    interpreter until it waits or has run a switch interval, however high
    the thread it woke; switching to a higher-priority thread at every point
    would run, say, a leader's sender between two Starts of a test's loop
    that real runs never split, and send one AppendEntries a Start (2.5
    times TestSnapshotBasic2D's real RPC count). So priorities decide who
    runs next when a turn ends; the d - 1 change points stay preemptions."""

    name = "pct"

    def __init__(self, rng: random.Random, perturb_s: float = DEFAULT_PERTURB_S,
                 depth: int = PCT_DEPTH, steps: int = PCT_STEPS,
                 turn_steps: int = TURN_STEPS) -> None:
        super().__init__(rng, perturb_s)
        self.depth = depth
        self.turn_steps = turn_steps
        self._turn_began = 0
        self._priority: Dict[int, float] = {}
        # Change point i (1-based) lowers the running thread to priority i;
        # kept latest first, so the next one due is at the end.
        points = sorted(rng.randrange(1, steps) for _ in range(depth - 1))
        self._changes = [(step, depth - 1 - i) for i, step in enumerate(points)][::-1]
        self._last: Any = None

    def spawned(self, rec: Any) -> None:
        self._priority[rec.order] = self.depth + self.rng.random()

    def pick(self, runnable: List[Any], step: int, current: Any = None) -> Any:
        lowered = None
        changes = self._changes
        # (A point passed while one thread alone could run still counts.)
        while changes and changes[-1][0] <= step:
            lowered = changes.pop()[1]
        if lowered is not None and self._last is not None:
            self._priority[self._last.order] = float(lowered)
        elif current is not None and step - self._turn_began < self.turn_steps:
            return current
        self._turn_began = step
        best = runnable[0]
        if len(runnable) > 1:
            priority = self._priority
            top = priority.get(best.order, 0.0)
            for rec in runnable:
                p = priority.get(rec.order, 0.0)
                if p > top:
                    best, top = rec, p
        self._last = best
        return best


def make_strategy(name: str, seed: int, perturb_s: float = DEFAULT_PERTURB_S,
                  step_cost_s: float = DEFAULT_STEP_COST_S) -> Strategy:
    """The strategy called name, with its own generator seeded from seed;
    step_cost_s is the virtual time a synchronisation point costs."""
    rng = random.Random(f"labsim-strategy-{seed}")
    if name == "random":
        return RandomWalk(rng, perturb_s)
    if name == "pct":
        turn = round(SWITCH_INTERVAL_S / step_cost_s) if step_cost_s > 0 else PCT_STEPS
        return PCT(rng, perturb_s, turn_steps=max(1, turn))
    raise ValueError(f"unknown simulation strategy {name!r}; choose one of {', '.join(NAMES)}")
