"""pytest --sim: run each test under labsim (virtual time, a seeded scheduler).

    pytest --sim                          each test with its own default seed
                                          (from its name: plain `pytest --sim`
                                          is itself reproducible)
    pytest --sim --sim-seed 7731 -k TestFigure8Unreliable2C     replay one run
    pytest --sim --sim-strategy pct       random (default) or pct
    pytest --sim --sim-seeds 500          run each test once per seed, seeds 1..500,
                                          in this process (raft-stress --sim does
                                          this); A-B and comma lists as well
    pytest --sim --sim-check              run each seed twice; fail naming the
                                          first divergent event if they differ
    --sim-perturb MS                      how late a wake-up may come (default 5)
    --sim-watchdog S                      real seconds without a synchronisation
                                          point before an escape is reported
    --sim-step-cost US                    virtual microseconds each synchronisation
                                          point costs (default 25)
    --sim-busy-steps N                    points in a row without waiting before a
                                          busy loop is reported (default 10^6)
    --sim-results FILE                    one JSON line per run (for tools)
    --sim-shrink, --sim-replay FILE       the fewest departures from a calm run
                                          that fail the same way (labsim.shrink)

Under --sim, pytest-timeout's real-time alarm is off: the test's limit (its
`timeout`, 120 s in setup.cfg) is checked in virtual time instead, and the
watchdog catches what the simulator cannot see. A failing run prints its
seed and the command that replays it.
"""

from __future__ import annotations

import json
import time as _time
from typing import Any, Dict, List, Optional

import pytest
from _pytest.reports import TestReport
from _pytest.runner import runtestprotocol

from labsim import hookspecs, patching, pool, seeds, shrink, tracecheck, watchdog
from labsim.clock import DEFAULT_STEP_COST_S
from labsim.core import BUSY_STEPS, Simulation
from labsim.errors import SimFailure
from labsim.replay_command import replay_command
from labsim.strategies import DEFAULT_PERTURB_S, NAMES

DEFAULT_TIME_LIMIT_S = 120.0
# A failed run's report carries its replay command under this name in its
# user_properties (and so in --junitxml), for tools that point to it.
REPLAY_PROPERTY = "sim_replay"

_failures: List[str] = []
_state: Dict[str, Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("labsim", "deterministic simulation (labsim)")
    group.addoption("--sim", action="store_true",
                    help="run tests under virtual time and a seeded scheduler")
    group.addoption("--sim-seed", type=int, default=None,
                    help="the seed of every test (default: derived from the test's name)")
    group.addoption("--sim-seeds", default=None, metavar="SEEDS",
                    help="run each test once per seed: N (the seeds 1..N), A-B, or a "
                         "comma list of seeds and ranges; one seed alone is --sim-seed N")
    group.addoption("--sim-strategy", default="random", choices=NAMES,
                    help="how the next thread is chosen (default random)")
    group.addoption("--sim-perturb", type=float, default=DEFAULT_PERTURB_S * 1000,
                    help="the most a wake-up may come late, in ms (default 5; 0: never)")
    group.addoption("--sim-step-cost", type=float, default=DEFAULT_STEP_COST_S * 1e6,
                    help="virtual microseconds each synchronisation point costs (default "
                         f"{DEFAULT_STEP_COST_S * 1e6:g})")
    group.addoption("--sim-check", action="store_true",
                    help="run each seed twice and fail if the runs differ")
    group.addoption("--sim-watchdog", type=float, default=watchdog.DEFAULT_LIMIT_S,
                    help="real seconds a thread may run without a synchronisation point")
    group.addoption("--sim-busy-steps", type=int, default=BUSY_STEPS,
                    help="synchronisation points a thread may pass in a row without "
                         "waiting before it is reported as a busy loop (default 10^6)")
    group.addoption("--sim-results", default=None,
                    help="append one JSON line per simulated run to this file")
    shrink.add_options(group)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("sim", False))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    shrink.configure(config)
    if not _enabled(config):
        return
    seed_list = config.getoption("sim_seeds")
    if seed_list is not None:
        try:
            _state["seeds"] = seeds.parse_seeds(seed_list)
        except ValueError as err:
            raise pytest.UsageError(f"--sim-seeds: {err}") from None
        if seeds.is_count(seed_list) and config.getoption("sim_seed") is not None:
            raise pytest.UsageError("--sim-seed N runs one seed and --sim-seeds N the seeds "
                                    "1..N: give one of them")
    if config.getoption("sim_perturb") < 0:
        raise pytest.UsageError("--sim-perturb must be >= 0 ms")
    if config.getoption("sim_step_cost") < 0:
        raise pytest.UsageError("--sim-step-cost must be >= 0 us")
    if config.getoption("sim_busy_steps") < 1:
        raise pytest.UsageError("--sim-busy-steps must be >= 1")
    # The test's limit, checked in virtual time; pytest-timeout's SIGALRM
    # would break a thread out of its wait for the baton.
    limit = config.getoption("timeout", None)
    if limit is None:
        try:
            limit = float(config.getini("timeout") or 0) or None
        except (ValueError, KeyError):
            limit = None
    _state["limit"] = float(limit) if limit else DEFAULT_TIME_LIMIT_S
    for name in ("timeout", "pytest_timeout"):  # (entry point, or -p pytest_timeout)
        timeout_plugin = config.pluginmanager.get_plugin(name)
        if timeout_plugin is not None:
            config.pluginmanager.unregister(timeout_plugin)
    patching.install()
    watchdog.ensure_running(config.getoption("sim_watchdog"))


@pytest.hookimpl(trylast=True)  # (after -k: a replay's test must be among those selected)
def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    if _enabled(config):
        shrink.select(config, items)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _enabled(config):
        pool.close()  # the idle OS threads the runs' threads ran on


def _time_limit(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    return _state.get("limit", DEFAULT_TIME_LIMIT_S)


def _run(item: pytest.Item, nextitem: Optional[pytest.Item], seed: int,
         trace: bool, choices: Any = None) -> "tuple[list, Simulation, float]":
    config = item.config
    sim = Simulation(
        seed, config.getoption("sim_strategy"),
        perturb_s=config.getoption("sim_perturb") / 1000.0,
        step_cost=config.getoption("sim_step_cost") / 1e6,
        time_limit=_time_limit(item), trace=trace,
        busy_steps=config.getoption("sim_busy_steps"),
        replay_hint=f"replay: {replay_command(config, item, seed)}", choices=choices)
    began = _time.perf_counter()
    item._report_sections = []  # (pytest keeps them on the item, across reruns)
    sim.adopt(item.name)
    escaped: Optional[SimFailure] = None
    try:
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
    except SimFailure as failure:
        # Raised in pytest's own code between the phases: report it.
        escaped, reports = failure, []
    finally:
        sim.shutdown()
    if escaped is not None:
        reports = [TestReport(item.nodeid, item.location, {}, "failed", str(escaped), "call")]
    return reports, sim, _time.perf_counter() - began


def _outcome(reports: list) -> str:
    for rep in reports:
        if rep.failed:
            return "failed"
    for rep in reports:
        if rep.skipped:
            return "skipped"
    return "passed"


def _output(reports: list) -> str:
    return "".join(f"[{rep.when}] {name}\n{text}" for rep in reports
                   for name, text in rep.sections if rep.when == "teardown")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Optional[pytest.Item]) -> Any:
    config = item.config
    if not _enabled(config):
        return None
    if shrink.wanted(config):
        return shrink.protocol(item, nextitem, _run, _log_run)
    check = config.getoption("sim_check")
    seed_list = _state.get("seeds")
    if seed_list is None:
        fixed = config.getoption("sim_seed")
        seed_list = [fixed if fixed is not None else seeds.seed_for(item.name)]
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for number, seed in enumerate(seed_list):
        last = number == len(seed_list) - 1
        # Between runs of one test, tear everything down (nextitem=None): a
        # run must not depend on the runs before it.
        following = nextitem if last and not check else None
        reports, sim, took = _run(item, following, seed, trace=check)
        if check:
            again, sim2, _ = _run(item, nextitem if last else None, seed, trace=True)
            names = [rec.name for rec in sim.records]
            names2 = [rec.name for rec in sim2.records]
            problem = tracecheck.first_divergence(sim.trace or [], sim2.trace or [],
                                                  names, names2)
            if problem is None and (_outcome(reports) != _outcome(again)):
                problem = (f"the first run {_outcome(reports)}, the second "
                           f"{_outcome(again)}")
            if problem is None and _output(reports) != _output(again):
                problem = "the runs printed different output (same schedule): " + \
                    _first_difference(_output(reports), _output(again))
            if problem is not None:
                for rep in again:
                    if rep.when == "call":
                        rep.outcome = "failed"
                        rep.longrepr = (f"labsim --sim-check: seed {seed} is not "
                                        f"deterministic: {problem}")
            reports = again
        _log_run(item, seed, sim, took, reports)
        if item.session.shouldfail or item.session.shouldstop:
            break  # -x / --maxfail: no more seeds either
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _log_run(item: pytest.Item, seed: int, sim: Simulation, took: float,
             reports: list) -> None:
    """Report one run's phases to pytest, with the replay hint of a failure."""
    config = item.config
    hint = f"seed {seed}, strategy {sim.strategy.name}: replay with\n  " \
           f"{replay_command(config, item, seed)}"
    # The simulation's notes go with the failure, where they are shown.
    noted = next((rep for rep in reports if rep.failed),
                 next((rep for rep in reports if rep.when == "teardown"), None))
    for rep in reports:
        if rep.failed:
            rep.sections.append(("labsim", hint))
            rep.user_properties.append((REPLAY_PROPERTY, replay_command(config, item, seed)))
        if sim.notes and rep is noted:
            rep.sections.append(("labsim notes", "\n".join(sim.notes)))
        item.ihook.pytest_runtest_logreport(report=rep)
    if any(rep.failed for rep in reports):
        _failures.append(f"{item.nodeid} seed {seed}: {replay_command(config, item, seed)}")
    results_path = config.getoption("sim_results")
    if results_path:
        _write_result(results_path, item, seed, sim, took, reports)


def _first_difference(a: str, b: str) -> str:
    lines_a, lines_b = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(lines_a, lines_b)):
        if x != y:
            return f"line {i + 1}: {x!r} against {y!r}"
    return f"one output has {abs(len(lines_a) - len(lines_b))} more lines"


def _write_result(path: str, item: pytest.Item, seed: int, sim: Simulation, took: float,
                  reports: list) -> None:
    outcome = _outcome(reports)
    line: Dict[str, Any] = {
        "nodeid": item.nodeid, "name": item.name, "seed": seed,
        "strategy": sim.strategy.name, "outcome": outcome, "steps": sim.steps,
        "switches": sim.switches, "threads": len(sim.records),
        "virtual_s": round(sim.clock.elapsed, 6), "real_s": round(took, 4),
        "replay": replay_command(item.config, item, seed),
    }
    passed = [text for text in _output(reports).splitlines() if "... Passed --" in text]
    if passed:
        line["passed_line"] = passed[-1].strip()
    if outcome == "failed":
        line["report"] = "\n".join(
            f"--- {rep.when}: {rep.outcome}\n{rep.longreprtext}" for rep in reports
            if rep.failed) + "\n" + _output(reports)
    with open(path, "a") as out:
        out.write(json.dumps(line) + "\n")


def describe(config: pytest.Config) -> Optional[str]:
    """What the simulation runs, for the run's header line; None when it is off."""
    if not _enabled(config):
        return None
    seed_list = config.getoption("sim_seeds")
    fixed = config.getoption("sim_seed")
    if seed_list is not None:
        which = (f"seeds 1-{seeds.parse_seeds(seed_list)[-1]}" if seeds.is_count(seed_list)
                 else f"seeds {seed_list}")
    elif fixed is not None:
        which = f"seed {fixed}"
    else:
        which = "each test's own seed"
    return f"simulation ({which}, strategy {config.getoption('sim_strategy')})"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    config = terminalreporter.config
    seed_list = config.getoption("sim_seeds", None) if _enabled(config) else None
    if seed_list is not None and seeds.is_count(seed_list):
        count = int(seed_list)
        terminalreporter.write_line(
            f"labsim: --sim-seeds {count} ran the seeds 1-{count}; "
            f"--sim-seed {count} runs seed {count} alone")
    shrink.terminal_summary(terminalreporter)
    if not _failures:
        return
    terminalreporter.section("labsim: failing seeds, and how to replay each")
    for line in _failures:
        terminalreporter.write_line(line)
