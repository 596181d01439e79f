"""pytest --sim-shrink and --sim-replay: a failing run with as few departures
from a calm run as still fail the same way, and its exact rerun.

    pytest --sim --sim-seed N -k TEST --sim-shrink [--shrink-time S] [--shrink-dir DIR]
    pytest --sim --sim-replay DIR/TEST-seedN.json [-k TEST]

--sim-shrink runs the seed once as drawn, with every choice watched
(labsim.choices); if it fails, it searches (labsim.ddmin) for the fewest of
that run's departures that, with every other choice calm, fail the same way
(failure_of), each try one simulated run of the test in this process, for at
most S seconds (default 60). Then it runs the smallest such run once more,
writes its replay file (labsim.replayfile) and its timeline page (through
the pytest_labsim_shrunk hook, which labtools.timeline_plugin implements)
into DIR (default shrunk/), and prints an account at the end:

    TestX seed 7731: fails with 3 departures (of 2,417 in the seed's run): ...

The seed's own run is reported as without --sim-shrink (it is the fallback:
its replay command is printed too); the tries are not reported, and other
plugins leave them out (is_trial: no timeline page, no tester output).
--sim-replay reruns a replay file's run as a test run of its own: the
file's seed and settings, its departures, every other choice calm.

    failure_of(reports)     how a run failed, in one line (None: it passed)
    is_trial(item)          whether item's run is one of the shrinker's tries
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from labsim import replayfile, seeds
from labsim.choices import ChoiceStream, Departure
from labsim.ddmin import fewest_departures
from labsim.errors import SimEscape
from labsim.replay_command import replay_command
from labsim.replayfile import Replay, ReplayFileError

DEFAULT_TIME_S = 60.0
DEFAULT_DIR = "shrunk"
# A progress line while shrinking, at most this often (real seconds).
PROGRESS_EVERY_S = 3.0
# Departures the account spells out; the replay file has them all.
ACCOUNT_LIMIT = 12

_TRIAL = pytest.StashKey[bool]()
_state: Dict[str, Any] = {"accounts": []}


def is_trial(item: pytest.Item) -> bool:
    """True while item runs as one of the shrinker's tries (or its last rerun)."""
    return item.stash.get(_TRIAL, False)


# --- how a run failed ------------------------------------------------------------------

_RULE = re.compile(r"Raft rule broken: ([^:]+):")
_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+")
# "labtest.testing.TestFailure: ..." -> "TestFailure: ..."
_MODULE_PATH = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_]\w*: )")


def failure_of(reports: List[Any]) -> Optional[str]:
    """The way a run failed, as one line: the phase and the first failure's
    first line, or the monitor rule it broke; numbers become N, so that the
    same check failing on another term or index is the same failure. None if
    the run did not fail."""
    for report in reports:
        if not report.failed:
            continue
        crash = getattr(report.longrepr, "reprcrash", None)
        text = getattr(crash, "message", None) or str(report.longrepr)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first = lines[0] if lines else "(no message)"
        rule = _RULE.search(first)
        if rule is not None:
            return f"{report.when}: Raft rule broken: {rule.group(1)}"
        first = _MODULE_PATH.sub("", first)
        return f"{report.when}: {_NUMBERS.sub('N', first)}"
    return None


# --- options -------------------------------------------------------------------------


def add_options(group: Any) -> None:
    group.addoption("--sim-shrink", action="store_true",
                    help="for a failing seed, find the run with the fewest departures from "
                         "a calm run that fails the same way (labsim.shrink)")
    group.addoption("--shrink-time", type=float, default=DEFAULT_TIME_S,
                    help=f"seconds to spend shrinking each failing test (default "
                         f"{DEFAULT_TIME_S:.0f})")
    group.addoption("--shrink-dir", default=DEFAULT_DIR,
                    help=f"where --sim-shrink writes replay files and pages (default "
                         f"{DEFAULT_DIR}/)")
    group.addoption("--sim-replay", metavar="FILE", default=None,
                    help="rerun a shrunk run from the replay file --sim-shrink wrote")


def wanted(config: pytest.Config) -> bool:
    return bool(config.getoption("sim_shrink") or config.getoption("sim_replay"))


def configure(config: pytest.Config) -> None:
    """Check the options (pytest.UsageError naming what is wrong); read a replay file."""
    shrink, path = config.getoption("sim_shrink"), config.getoption("sim_replay")
    _state["accounts"] = []
    _state["replay"] = None
    if not (shrink or path):
        return
    flag = "--sim-shrink" if shrink else "--sim-replay"
    if not config.getoption("sim"):
        raise pytest.UsageError(f"{flag} works on simulated runs: add --sim")
    if shrink and path:
        raise pytest.UsageError("--sim-shrink and --sim-replay go separately: shrink a seed, "
                                "or replay a file")
    if config.getoption("sim_seeds") is not None:
        raise pytest.UsageError(f"{flag} takes one seed (--sim-seed N), not --sim-seeds")
    if config.getoption("sim_check"):
        raise pytest.UsageError(f"{flag} cannot be combined with --sim-check")
    if shrink and not config.getoption("shrink_time") > 0:
        raise pytest.UsageError("--shrink-time must be > 0 seconds")
    if path:
        try:
            replay = replayfile.read(path)
        except ReplayFileError as err:
            raise pytest.UsageError(str(err)) from None
        if config.getoption("sim_seed") is not None and config.getoption("sim_seed") != \
                replay.seed:
            raise pytest.UsageError(f"--sim-seed {config.getoption('sim_seed')} against "
                                    f"replay file {path}, made from seed {replay.seed}")
        if bool(config.getoption("race", False)) != replay.race:
            raise pytest.UsageError(
                f"replay file {path} was made {'with' if replay.race else 'without'} "
                f"--race; replay it {'with' if replay.race else 'without'} --race too")
        # The file's settings, so that the rerun is the shrunk run.
        config.option.sim_strategy = replay.strategy
        config.option.sim_perturb = replay.perturb_ms
        config.option.sim_step_cost = replay.step_cost_us
        config.option.sim_busy_steps = replay.busy_steps
        _state["replay"] = replay
        _state["replay_path"] = path


def select(config: pytest.Config, items: List[pytest.Item]) -> None:
    """With --sim-replay: keep only the file's test; an error if it is not selected."""
    replay: Optional[Replay] = _state.get("replay")
    if replay is None or not items:
        return
    keep = [item for item in items if item.name == replay.name]
    if not keep:
        names = ", ".join(sorted({item.name for item in items})[:5])
        raise pytest.UsageError(
            f"replay file {_state['replay_path']} is for {replay.name} ({replay.test}), "
            f"which is not among the selected tests ({names}{', ...' if len(items) > 5 else ''})"
            f"; select it with -k {replay.name}")
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


# --- the protocols -------------------------------------------------------------------

Run = Callable[..., Any]    # labsim.pytest_plugin._run
Log = Callable[..., None]   # labsim.pytest_plugin._log_run


def protocol(item: pytest.Item, nextitem: Optional[pytest.Item], run: Run, log: Log) -> bool:
    """Run item under --sim-shrink or --sim-replay; True (the protocol is done)."""
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    replay = _state.get("replay")
    if replay is not None:
        _replay(item, nextitem, run, log, replay)
    else:
        _shrink(item, run, log)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _one_run(item: pytest.Item, run: Run, seed: int, stream: ChoiceStream,
             nextitem: Optional[pytest.Item] = None, trial: bool = False) -> Any:
    item.stash[_TRIAL] = trial
    try:
        with stream.faults():
            return run(item, nextitem, seed, trace=False, choices=stream)
    finally:
        item.stash[_TRIAL] = False


def _shrink(item: pytest.Item, run: Run, log: Log) -> None:
    config = item.config
    fixed = config.getoption("sim_seed")
    seed = fixed if fixed is not None else seeds.seed_for(item.name)
    drawn = ChoiceStream()
    reports, sim, took = _one_run(item, run, seed, drawn)
    log(item, seed, sim, took, reports)
    failure = failure_of(reports)
    if failure is None:
        _state["accounts"].append(f"{item.name} seed {seed}: passes, nothing to shrink")
        return
    if isinstance(sim.failure, SimEscape):
        # The watchdog's report comes from real time (a loaded machine, a block
        # the simulator cannot see), not from the seed: no rerun would show it.
        _state["accounts"].append(
            f"{item.name} seed {seed}: the run failed with the real-time watchdog's report "
            f"(an escape), which does not replay from the seed: nothing to shrink; run it "
            f"again: {_seed_command(item, seed)}")
        return
    began = time.monotonic()
    progress = _Progress(config, item.name, seed, len(drawn.departures), began)

    def fails_the_same(stream: ChoiceStream) -> bool:
        tried, tried_sim, _ = _one_run(item, run, seed, stream, trial=True)
        return failure_of(tried) == failure and not isinstance(tried_sim.failure, SimEscape)

    keep, minimizer = fewest_departures(drawn, fails_the_same,
                                        began + config.getoption("shrink_time"), progress.tried)
    seconds = time.monotonic() - began
    # The smallest run once more: its page, and the departures as it makes them.
    final = ChoiceStream(keep=keep)
    again, _, _ = _one_run(item, run, seed, final, trial=True)
    if failure_of(again) != failure:
        # A run is a function of its choices: only what real time decides (the
        # watchdog) can make the same choices fail otherwise.
        _state["accounts"].append(
            f"{item.name} seed {seed}: the shrunk run ({_count(len(keep), 'departure')}) "
            f"failed otherwise when made again ({failure_of(again)}, not {failure}): is the "
            f"machine so loaded that the watchdog fired? The seed's run stays the way to see "
            f"the failure: {_seed_command(item, seed)}")
        return
    folder = Path(config.getoption("shrink_dir"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.\[\]-]+", "_", item.name) + f"-seed{seed}"
    path = folder / f"{stem}.json"
    replayfile.write(path, Replay(
        test=item.nodeid, name=item.name, seed=seed, strategy=config.getoption("sim_strategy"),
        perturb_ms=config.getoption("sim_perturb"),
        step_cost_us=config.getoption("sim_step_cost"),
        busy_steps=config.getoption("sim_busy_steps"), race=bool(config.getoption("race", False)),
        failure=failure, departures=[d.to_json() for d in final.departures],
        original_departures=len(drawn.departures), choices=drawn.choices))
    page = config.hook.pytest_labsim_shrunk(item=item, reports=again,
                                            path=str(folder / f"{stem}.html"))
    _state["accounts"].append(account(
        item.name, seed, failure, final.departures, len(drawn.departures), replay_path=path,
        page=page, tries=minimizer.tries, seconds=seconds, timed_out=minimizer.timed_out,
        seed_command=_seed_command(item, seed)))


def _seed_command(item: pytest.Item, seed: int) -> str:
    return replay_command(item.config, item, seed)


def account(name: str, seed: int, failure: str, departures: List[Departure], original: int,
            replay_path: Any, page: Optional[str], tries: int, seconds: float,
            timed_out: bool, seed_command: str) -> str:
    """The printed account of one shrink."""
    told = "; ".join(f"{d.what} at t={d.at:.3f} s" for d in departures[:ACCOUNT_LIMIT])
    if len(departures) > ACCOUNT_LIMIT:
        told += f"; and {len(departures) - ACCOUNT_LIMIT} more (in the replay file)"
    told = told or "the calm run fails the same way"
    lines = [f"{name} seed {seed} fails with {_count(len(departures), 'departure')} (of "
             f"{original:,} in seed {seed}): {told}"]
    search = f"{tries} tries in {seconds:.1f} s"
    if timed_out:
        search += " (the time box ran out: a longer --shrink-time may shrink it further)"
    elif len(departures) >= original:
        search += " (no run with fewer departures fails the same way)"
    lines += [f"  the failure: {failure}", f"  search:   {search}",
              f"  replay:   pytest --sim --sim-replay {replay_path} -k {name}"]
    lines.append(f"  page:     {page}" if page else
                 "  page:     none (the timeline plugin, labtools.timeline_plugin, is not loaded)")
    lines.append(f"  the seed: {seed_command}")
    return "\n".join(lines)


def _replay(item: pytest.Item, nextitem: Optional[pytest.Item], run: Run, log: Log,
            replay: Replay) -> None:
    stream = ChoiceStream(keep=replay.keep())
    reports, sim, took = _one_run(item, run, replay.seed, stream, nextitem=nextitem)
    log(item, replay.seed, sim, took, reports)
    failure = failure_of(reports)
    # (through JSON both: a key's tuples are lists in the file)
    made = [json.loads(json.dumps(d.to_json()["key"])) for d in stream.departures]
    wanted_keys = [d["key"] for d in replay.departures]
    path = _state["replay_path"]
    if failure == replay.failure and made == wanted_keys:
        _state["accounts"].append(
            f"replayed {path}: {item.name} seed {replay.seed} fails as recorded "
            f"({failure}) with its {_count(len(made), 'departure')}")
    else:
        _state["accounts"].append(
            f"replay of {path} differs from the shrunk run: it "
            f"{'passed' if failure is None else 'failed with ' + repr(failure)}, recorded "
            f"{replay.failure!r}; made {len(set(map(str, made)) & set(map(str, wanted_keys)))}"
            f" of the file's {len(wanted_keys)} departures and {len(made)} in all. Has the "
            "code changed since the file was written?")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


class _Progress:
    """A line every few seconds while shrinking."""

    def __init__(self, config: pytest.Config, name: str, seed: int, original: int,
                 began: float) -> None:
        self._writer = config.pluginmanager.get_plugin("terminalreporter")
        self._head = f"labsim shrink {name} seed {seed}"
        self._original = original
        self._began = began
        self._last = began
        self.tries = 0
        self.left = original

    def tried(self, departures: Optional[int]) -> None:
        """One more try; departures: how many its run made, if it failed the same way."""
        self.tries += 1
        if departures is not None:
            self.left = min(self.left, departures)
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_S and self._writer is not None:
            if self._last == self._began:
                self._writer.write("\n")   # (the line holds the test's outcome letter)
            self._last = now
            self._writer.write_line(
                f"{self._head}: {self.tries} tries, {_count(self.left, 'departure')} left "
                f"(of {self._original:,}), {now - self._began:.0f} s")


def terminal_summary(terminalreporter: Any) -> None:
    accounts = _state.get("accounts") or []
    if not accounts:
        return
    terminalreporter.section("labsim: shrunk runs")
    for text in accounts:
        for line in text.splitlines():
            terminalreporter.write_line(line)
