"""Scheduling strategies: which runnable thread goes next, and how late a
wake-up may come.

One small interface (Strategy):
    spawned(rec)                  a new thread joined the run
    pick(runnable, step, current, started)
                                  the next thread; runnable is sorted by
                                  creation order, never by wake-up order, so
                                  the hash order of sets cannot leak in;
                                  current is the running thread if it may go
                                  on; started is a thread it has just started
    late_by()                     extra delay (s) for a thread woken by another
    timer_late_by()               extra delay (s) for a sleeper's deadline

    RandomWalk  at each synchronisation point, preempt the running thread
                with probability PREEMPT_CHANCE; when it waits, a uniform choice
    PCT         random priorities with d - 1 change points (Burckhardt et
                al., ASPLOS 2010), over turns: the running thread keeps going
                until it waits, has run TURN_STEPS points since another
                thread wanted to run, or reaches a change point (where it
                drops below all others); then the highest-priority runnable
                thread takes the next turn

Why PCT takes turns: CPython keeps the running thread until it waits or has
held the interpreter for its switch interval (5 ms) while another thread
waited for it, whatever it wakes. A PCT that switched to a higher-priority
thread at every point ran schedules no real run shows: a leader's sender
that outranks the test thread sent one AppendEntries per Start of the
test's loop of ten (TestSnapshotBasic2D up to 558 RPCs against a real
166-218). A thread start hands the turn to the new thread and gives the
next one back to the starter, as CPython's start() does (it waits until
the child runs), unless a change point falls on the start itself; without
that hand-over, clients started in a row had their commands batched as no
real run does (TestUnreliableAgree2C). docs/figures.md has the fidelity
figures.

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
# thread keeps the interpreter while another waits for it. A turn is that
# long in points, at the run's step cost (200 at the default 25 us).
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

    def pick(self, runnable: List[Any], step: int, current: Any = None,
             started: Any = None) -> Any:
        """current: the running thread, when it could go on running;
        started: the thread current has just started (at a thread start)."""
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

    def pick(self, runnable: List[Any], step: int, current: Any = None,
             started: Any = None) -> Any:
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
    name = "pct"

    def __init__(self, rng: random.Random, perturb_s: float = DEFAULT_PERTURB_S,
                 depth: int = PCT_DEPTH, steps: int = PCT_STEPS,
                 turn_steps: int = TURN_STEPS) -> None:
        super().__init__(rng, perturb_s)
        self.depth = depth
        self.turn_steps = turn_steps
        self._priority: Dict[int, float] = {}
        # Change point i (1-based) lowers the running thread to priority i.
        points = sorted(rng.randrange(1, steps) for _ in range(depth - 1))
        self._changes = {step: depth - 1 - i for i, step in enumerate(points)}
        self._last: Any = None  # whose turn it is
        self._turn_began = 0
        self._seen = 0  # the last step a pick was asked at
        # Threads that started another and are owed the turn after it, the
        # latest first (a child may start threads of its own).
        self._starters: List[Any] = []

    def spawned(self, rec: Any) -> None:
        self._priority[rec.order] = self.depth + self.rng.random()

    def pick(self, runnable: List[Any], step: int, current: Any = None,
             started: Any = None) -> Any:
        if step > self._seen + 1 and current is not None:
            # No pick since the last: current ran alone until now, when some
            # thread wants to run. CPython counts the 5 ms from the moment a
            # thread starts waiting for the interpreter, so the turn does too.
            self._turn_began = step
        self._seen = step
        lowered = self._changes.pop(step, None)
        if lowered is not None and self._last is not None:
            self._priority[self._last.order] = float(lowered)
        elif started is not None:
            self._starters.append(current)
            return self._turn(started, step)
        elif current is not None and step - self._turn_began < self.turn_steps:
            return current
        starters = self._starters
        while starters:
            starter = starters.pop()
            if starter.runnable:
                return self._turn(starter, step)
        best = runnable[0]
        if len(runnable) > 1:
            priority = self._priority
            top = priority.get(best.order, 0.0)
            for rec in runnable:
                p = priority.get(rec.order, 0.0)
                if p > top:
                    best, top = rec, p
        return self._turn(best, step)

    def _turn(self, rec: Any, step: int) -> Any:
        self._last = rec
        self._turn_began = step
        return rec


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
