"""labsim: run unmodified threaded Python under virtual time and a seeded
scheduler, so that a run is fast and replays exactly from its seed.

Usage map:
    pytest --sim [--sim-seed N] [--sim-strategy random|pct] [--sim-check]
                                    labsim.pytest_plugin (the options)
    pytest --sim --sim-seed N -k TEST --sim-shrink     the fewest departures from
    pytest --sim --sim-replay FILE                     a calm run that fail the
                                    same way, and its rerun (labsim.shrink)
    labsim.run(fn, seed=7)          run fn() as one simulated run, outside pytest

Modules, one job each:
    core          Simulation: managed threads, the baton, the timers, the
                  deadlock / busy-loop / time-limit checks
    clock         VirtualClock: the virtual time, and its cost per step
    strategies    random walk and PCT, with the seeded time perturbation
    primitives    Lock, RLock, Condition, SimpleQueue, sleep, monotonic, ...
                  and Thread.start/join/is_alive; real outside a run
    patching      install()/uninstall() them into threading, time, queue
    pool          reused OS threads: a started thread costs no OS thread start
    reports       every thread: what it waits for, who holds the lock, stack
    watchdog      a real-time watchdog for threads stuck outside the
                  simulator's view (a C-level block, a loop with no sync point)
    tracecheck    run twice, name the first divergent event
    choices       ChoiceStream: every choice of a run (the scheduler's, the
                  clock's, labrpc's faults), watched or edited; departures
    ddmin         delta debugging: the fewest items that still fail
    shrink        --sim-shrink and --sim-replay (the pytest side), failure_of
    replayfile    the replay file of a shrunk run
    hookspecs     pytest_labsim_shrunk (the shrunk run's page, drawn by labtools)
    seeds         a test's default seed; "A-B" seed lists
    errors        SimFailure (deadlock, busy loop, time limit, escape),
                  SimKilled (stops threads that outlive their test)

What it promises: one thread runs at a time; the same seed, strategy and
code give the same run (the same order of synchronisation points, the
same virtual times, the same output). What it does not: true parallelism
(unlocked access between synchronisation points never interleaves; that
is what a race checker is for), and code that blocks where the simulator
cannot see (C extensions, sockets) or draws randomness from os.urandom or
an unseeded random.Random().
"""

from __future__ import annotations

from typing import Any, Callable

from labsim.core import Simulation, active
from labsim.errors import (SimBusyLoop, SimDeadlock, SimEscape, SimFailure, SimKilled,
                           SimTimeLimit, SimTooManyThreads)
from labsim.seeds import parse_seeds, seed_for

__all__ = ["Simulation", "active", "run", "seed_for", "parse_seeds", "SimFailure",
           "SimDeadlock", "SimBusyLoop", "SimTimeLimit", "SimEscape", "SimTooManyThreads",
           "SimKilled"]


def run(fn: Callable[[], Any], seed: int = 0, strategy: str = "random", **options: Any) -> Any:
    """Run fn() in the calling thread as one simulated run; return its result.

    The patches are installed for good on first use. options go to Simulation
    (perturb_s, step_cost, time_limit, busy_steps, max_threads, trace, choices).
    """
    from labsim import patching, watchdog
    patching.install()
    watchdog.ensure_running()
    sim = Simulation(seed, strategy, **options)
    sim.adopt()
    try:
        return fn()
    finally:
        sim.shutdown()
