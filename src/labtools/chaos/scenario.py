"""One seed: a cluster under a nemesis, judged, under the simulation.

    result = run_seed(seed, part, peers=None, record_dir=None, lags=False,
                      keep_events=False, choices=None)
        result.ok, result.rule, result.message, result.peers, result.actions,
        result.virtual_s, result.leader_waits, result.agreement_waits,
        result.reply_lag, result.replay, result.record_path

What a seed does, all drawn from a generator seeded by (part, seed) and
run under labsim with the seed (so the same seed, part and cluster size
give the same run, byte for byte):
  - a cluster of 3, 5 or 7 peers of raft.py, built by the harness
    (raft.config: the applier's checks that every peer applies the same
    command at an index, and the monitors on the record, as in the tests);
  - from 2B on, 1-3 clients offering commands through Start (workload);
  - a storm of STORM_MIN_S-STORM_MAX_S of faults (nemesis), broken now and
    then by a calm: a random majority is joined, restarted where crashed,
    and put on a reliable network, and is owed a leader within
    LEADER_BOUND_S and (from 2B on) a command committed by all its members
    through the harness's one() (10 s);
  - a last calm with every peer, which also owes a stop to elections: after
    SETTLE_S of quiet, at most one term more in STABLE_S, and a leader at its
    end; then the harness's cleanup and its checks;
    every thread must then end within THREAD_GRACE_S.
The seed fails at the first broken rule (labtools.chaos.judgement names it).
With choices (a labsim.choices.ChoiceStream), every choice of the run goes
through it: the simulator's, labrpc's faults and the nemesis's faults
(labtools.chaos.shrinking watches and edits them).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import labsim
import racecheck
from labsim import SimFailure, SimKilled
from labsim.choices import ChoiceStream
from labtest.testing import T, TestFailure, threads_left
from labtools.chaos.cluster import Cluster
from labtools.chaos.nemesis import Nemesis
from labtools.chaos.parts import FEATURES
from labtools.chaos.judgement import (LEADER_BOUND_S, LEADER_RULE, SETTLE_S, STABLE_RULE,
                                      STABLE_S, THREADS_RULE, Failure, rule_of, sim_rule)
from labtools.chaos.workload import ONE_BASE, Clients
from monitors.rules import reply_term_adopted
from raft.config import Config, make_config

SIZES = (3, 5, 7)
# The storm: this long (virtual seconds), a calm after a fault with this chance.
STORM_MIN_S = 2.0
STORM_MAX_S = 5.0
CALM_CHANCE = 0.12
CLIENTS_MAX = 3
# How often the leader check looks (virtual seconds).
LEADER_POLL_S = 0.010
# The threads of a cleaned-up cluster must end within this (as in pytest).
THREAD_GRACE_S = 1.0
# The simulator's backstop on a seed (virtual seconds), the Go tester's
# limit on a test: every check above has its own bound, far below it, and
# a passing seed lasts a few seconds (docs/chaos.md).
TIME_LIMIT_S = 120.0


@dataclass
class SeedResult:
    seed: int
    part: str
    peers: int
    ok: bool = True
    rule: str = ""
    message: str = ""
    virtual_s: float = 0.0
    actions: List[Tuple[float, str]] = field(default_factory=list)
    # Seconds from each calm to its leader, and from one()'s Start to its agreement.
    leader_waits: List[float] = field(default_factory=list)
    agreement_waits: List[float] = field(default_factory=list)
    reply_lag: Optional[float] = None
    record_path: Optional[str] = None
    race: bool = False
    events: Optional[List[Any]] = None

    @property
    def replay(self) -> str:
        return replay_command(self.seed, self.part, self.peers, self.race)

    def to_json(self) -> dict:
        fields = dict(self.__dict__)
        fields.pop("events")
        fields["actions"] = [list(action) for action in self.actions]
        return fields

    @classmethod
    def from_json(cls, fields: dict) -> "SeedResult":
        fields = dict(fields)
        fields["actions"] = [tuple(action) for action in fields.get("actions", [])]
        return cls(**fields)


def replay_command(seed: int, part: str, peers: int, race: bool = False) -> str:
    # "N-N": a bare N would be the N seeds 1..N (labsim.seeds).
    return f"raft-chaos --parts {part} --peers {peers} --seeds {seed}-{seed}" + \
        (" --race" if race else "")


def seed_name(seed: int, part: str) -> str:
    return f"raft-chaos {part} seed {seed}"


def seed_generator(seed: int, part: str) -> Tuple[random.Random, int]:
    """The seed's generator, after its first draw: the cluster size."""
    rng = random.Random(seed_name(seed, part))
    return rng, rng.choice(SIZES)


# The T of the seed running in this process, for threading.excepthook.
_running: List[T] = []


def _thread_raised(hook_args: Any) -> None:
    if isinstance(hook_args.exc_value, SimKilled) or not _running:
        return
    where = "".join(traceback.format_exception(hook_args.exc_type, hook_args.exc_value,
                                               hook_args.exc_traceback)[-3:]).rstrip()
    name = hook_args.thread.name if hook_args.thread is not None else "?"
    _running[-1].fail_later(f"thread {name} raised {hook_args.exc_type.__name__}: "
                            f"{hook_args.exc_value}\n{where}")


def run_seed(seed: int, part: str, peers: Optional[int] = None,
             record_dir: Optional[Path] = None, lags: bool = False,
             keep_events: bool = False, choices: Optional[ChoiceStream] = None,
             record_name: str = "") -> SeedResult:
    """Run one seed under the simulation; see the module docstring. A failing
    seed's record goes to record_dir/(record_name or chaos-PART-seed-N.jsonl)."""
    # The size is drawn even when peers is given, so the draws after it are
    # the same: the seed's run with --peers of its own size is its run.
    rng, drawn = seed_generator(seed, part)
    result = SeedResult(seed, part, peers or drawn, race=racecheck.enabled())
    hook = threading.excepthook
    threading.excepthook = _thread_raised
    try:
        with choices.faults() if choices is not None else contextlib.nullcontext():
            # (_Seed is made inside the run: its clock and its T are the simulation's)
            labsim.run(lambda: _Seed(result, rng, choices).run(
                record_dir, lags, keep_events, record_name),
                       seed=seed, time_limit=TIME_LIMIT_S, choices=choices)
    finally:
        threading.excepthook = hook
    return result


class _Seed:
    def __init__(self, result: SeedResult, rng: random.Random,
                 choices: Optional[ChoiceStream]) -> None:
        self.result = result
        self.rng = rng
        self.choices = choices
        self.features = FEATURES[result.part]
        self.t = T(seed_name(result.seed, result.part), echo=False)
        self.began = time.monotonic()
        self.calms = 0

    def run(self, record_dir: Optional[Path], lags: bool, keep_events: bool,
            record_name: str) -> None:
        result = self.result
        before = set(threading.enumerate())
        cfg: Optional[Config] = None
        cluster: Optional[Cluster] = None
        clients: Optional[Clients] = None
        _running.append(self.t)
        try:
            cfg = make_config(self.t, result.peers, False, snapshot=self.features.snapshots)
            cluster = Cluster(cfg)
            nemesis = Nemesis(cluster, self.rng, self.features, self.choices)
            if self.features.commands:
                clients = Clients(cfg, seed_name(result.seed, result.part),
                                  self.rng.randint(1, CLIENTS_MAX))
            self._storm(cluster, nemesis)
            self._calm(cluster, nemesis, list(range(result.peers)), settle=True)
            if clients is not None:
                clients.stop()
                clients = None
            cfg.cleanup()
            self._threads_end(before)
        except Failure as failure:
            self._failed(cfg, failure.rule, failure.message)
        except TestFailure as failure:
            self._failed(cfg, None, str(failure))
        except SimFailure as failure:
            self._failed(cfg, sim_rule(failure), str(failure) or failure.report)
        except Exception:
            self._failed(cfg, None, "thread chaos-main raised " + traceback.format_exc())
        finally:
            _running.remove(self.t)
            self._wind_down(cfg, clients)
        result.virtual_s = round(time.monotonic() - self.began, 6)
        if cluster is not None:
            result.actions = [(round(at, 4), text) for at, text in cluster.actions]
        if cfg is not None and cfg.record is not None:
            events = cfg.record.events
            if lags:
                result.reply_lag = reply_term_adopted.largest_lag(events)
            if keep_events:
                result.events = events
            if not result.ok and record_dir is not None:
                record_dir.mkdir(parents=True, exist_ok=True)
                path = record_dir / (record_name
                                     or f"chaos-{result.part}-seed-{result.seed}.jsonl")
                cfg.record.save(path)
                result.record_path = str(path)

    def _failed(self, cfg: Optional[Config], rule: Optional[str], message: str) -> None:
        """Keep the seed's first failure: one kept from another thread came first."""
        if cfg is not None and cfg.record is not None:
            try:
                cfg.record.flush()
            except SimFailure:
                pass
        earlier = self.t.later_failure()
        if earlier is not None and not message.startswith(earlier):
            rule, message = None, earlier
        result = self.result
        result.ok = False
        result.rule = rule if rule is not None else rule_of(message)
        result.message = message

    def _wind_down(self, cfg: Optional[Config], clients: Optional[Clients]) -> None:
        """After a failure: stop what still runs, ignoring what it says."""
        try:
            if clients is not None:
                clients.stop()
            if cfg is not None:
                cfg.cleanup(check=False)
        except (SimFailure, TestFailure, Exception):
            pass

    # --- the phases -------------------------------------------------------------

    def _elapsed(self) -> float:
        return time.monotonic() - self.began

    def _storm(self, cluster: Cluster, nemesis: Nemesis) -> None:
        ends = self._elapsed() + self.rng.uniform(STORM_MIN_S, STORM_MAX_S)
        while self._elapsed() < ends:
            nemesis.strike()
            nemesis.pause()
            self.t.check_later_failures()
            if self.rng.random() < CALM_CHANCE:
                members = self.rng.sample(range(cluster.n), self.rng.randint(
                    cluster.n // 2 + 1, cluster.n))
                self._calm(cluster, nemesis, sorted(members))

    def _calm(self, cluster: Cluster, nemesis: Nemesis, members: List[int],
              settle: bool = False) -> None:
        """Join members (a majority) on a reliable network; they owe a leader,
        with settle a stop to elections, and from 2B on a command committed
        by them all."""
        for i in members:
            if i in cluster.crashed():
                cluster.restart(i)
        others = [i for i in cluster.live() if i not in members]
        cluster.partition([members, others] if others else [members])
        nemesis.calm_network()
        cluster.note(f"calm: {_names(members)} owe a leader"
                     + (" and a commit" if self.features.commands else ""))
        began = time.monotonic()
        found = self._await_leader(cluster, members, began)
        self.result.leader_waits.append(round(found - began, 6))
        if settle:
            self._settles(cluster, members)
        if self.features.commands:
            self.calms += 1
            offered = time.monotonic()
            cluster.cfg.one(ONE_BASE + self.calms, len(members), True)
            self.result.agreement_waits.append(round(time.monotonic() - offered, 6))
        self.t.check_later_failures()

    def _await_leader(self, cluster: Cluster, members: Sequence[int], began: float) -> float:
        """When a member was seen leading the newest term any member has;
        Failure after the bound."""
        while True:
            leaders = cluster.leaders(members)
            if leaders and max(leaders)[0] >= max(cluster.terms(members)):
                return time.monotonic()
            if time.monotonic() - began > LEADER_BOUND_S:
                terms = ", ".join(f"S{i} term {term}" for i, term
                                  in zip(members, cluster.terms(members)))
                raise Failure(LEADER_RULE,
                              f"{LEADER_RULE}: {_names(members)} were joined on a reliable "
                              f"network at t={began - self.began:.3f} s, and no member "
                              f"led in the newest term {LEADER_BOUND_S:g} s later ({terms}; "
                              f"leaders: {_leaders(leaders)})")
            time.sleep(LEADER_POLL_S)

    def _settles(self, cluster: Cluster, members: Sequence[int]) -> None:
        """After SETTLE_S of quiet, the members' newest term grows by at most
        one in STABLE_S, and a member leads it at the end."""
        time.sleep(SETTLE_S)
        settled = max(cluster.terms(members))
        time.sleep(STABLE_S)
        terms = cluster.terms(members)
        if max(terms) > settled + 1:
            shown = ", ".join(f"S{i} term {term}" for i, term in zip(members, terms))
            raise Failure(STABLE_RULE,
                          f"{STABLE_RULE}: {_names(members)} had had a leader and "
                          f"{SETTLE_S:g} s of a quiet network at term {settled}, yet "
                          f"{STABLE_S:g} s later had moved {max(terms) - settled} terms on "
                          f"({shown}; leaders: {_leaders(cluster.leaders(members))})")
        self._await_leader(cluster, members, time.monotonic())

    def _threads_end(self, before: set) -> None:
        left = threads_left(before, THREAD_GRACE_S)
        if left:
            names = ", ".join(sorted({th.name for th in left}))
            raise Failure(THREADS_RULE, f"{len(left)} thread(s) still running "
                          f"{THREAD_GRACE_S:g} s after the cluster was cleaned up (every "
                          f"peer Kill()ed): {names}")


def _names(peers: Sequence[int]) -> str:
    return " ".join(f"S{i}" for i in peers)


def _leaders(leaders: Sequence[Tuple[int, int]]) -> str:
    return ", ".join(f"S{i} of term {term}" for term, i in sorted(leaders)) or "none"
