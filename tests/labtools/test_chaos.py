"""raft-chaos: a seed replays exactly, exit codes, bad arguments, planted bugs
found with their rule and replay command, the cluster's wiring, and the
two monitors it brought (a reply's newer term, a leader's majority) on
made-up records, firing where the rule is broken and silent where not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import pytest

from labrpc.record import Record
from labtest.testing import T
from labtools.chaos.cluster import Cluster
from monitors import leader_votes, reply_terms
from raft.config import make_config
from tests.bugs import CHAOS_RUNNER, catalogue, lab_tree

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "src" / "raft" / "raft.py"
# No run here should come near this; a hang fails the test instead of pytest.
HANG_GUARD_S = 300


def _run(command: Sequence[str], cwd: Path, env_extra: Optional[dict] = None
         ) -> Tuple[int, str]:
    env = dict(os.environ)
    env.pop("RAFT_DEBUG", None)
    env.update(env_extra or {})
    try:
        done = subprocess.run(list(command), cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=HANG_GUARD_S, env=env)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"hung: no result within {HANG_GUARD_S} s\n"
                    f"{(err.stdout or b'').decode(errors='replace')[-3000:]}")
    return done.returncode, done.stdout.decode(errors="replace")


def _chaos(cwd: Path, *args: str) -> Tuple[int, str]:
    """raft-chaos with the packages of cwd/src first (a lab tree), or the repository's."""
    return _run([sys.executable, "-c", CHAOS_RUNNER, *args], cwd)


# --- the command -----------------------------------------------------------------------


def test_the_solution_passes_its_seeds_and_exits_0() -> None:
    code, out = _chaos(ROOT, "--parts", "2A,2D", "--seeds", "1-3", "-p", "2")
    assert code == 0, out
    assert "raft-chaos: parts 2A, 2D, seeds 1-3, 2 processes" in out
    assert re.search(r"6 seeds passed in [\d.]+ s \([\d.]+ a second; 2A: 3, 2D: 3\); "
                     r"no rule broken", out), out


def test_a_time_limit_ends_the_run_with_0() -> None:
    began = time.monotonic()
    code, out = _chaos(ROOT, "--parts", "2B", "--time", "2", "-p", "1")
    assert code == 0, out
    assert "seeds from " in out and "for 2 s" in out
    assert re.search(r"\d+ seeds passed", out), out
    assert time.monotonic() - began < 60


@pytest.mark.parametrize("args, message", [
    ([], "choose the parts to run: --parts 2A"),
    (["--parts", "2E"], "--parts: unknown part '2E': the parts are 2A, 2B, 2C, 2D"),
    (["--parts", ","], "--parts: no part chosen"),
    (["--parts", "2A", "-p", "0"], "-p/--processes must be at least 1, got 0"),
    (["--parts", "2A", "--time", "0"], "--time must be a positive number of seconds"),
    (["--parts", "2A", "--time", "soon"], "argument --time: invalid float value: 'soon'"),
    (["--parts", "2A", "--seeds", "9-3"], "--seeds: bad seed list '9-3'"),
    (["--parts", "2A", "--seeds=-4"], "--seeds: seeds are numbers from 0 up, got -4"),
    (["--parts", "2A", "--peers", "12"], "--peers must be from 1 to 9, got 12"),
], ids=lambda value: None if isinstance(value, list) else "-".join(value.split()[:2]))
def test_bad_arguments_are_named_with_exit_2(args: List[str], message: str) -> None:
    code, out = _chaos(ROOT, *args)
    assert code == 2, out
    assert message in out, out
    assert "Traceback" not in out


# --- one seed ----------------------------------------------------------------------------

SEED_DIGEST = """
import hashlib, json, sys
from labtools.chaos.scenario import run_seed
for seed in map(int, sys.argv[2:]):
    result = run_seed(seed, sys.argv[1], keep_events=True)
    blob = json.dumps([result.to_json(), result.events], sort_keys=True, default=repr)
    print("DIGEST", seed, result.ok, len(result.events),
          hashlib.sha256(blob.encode()).hexdigest())
"""


def _digests(part: str, seeds: Sequence[int], hash_seed: str) -> List[str]:
    code, out = _run([sys.executable, "-c", SEED_DIGEST, part, *map(str, seeds)], ROOT,
                     {"PYTHONHASHSEED": hash_seed})
    assert code == 0, out
    return [line for line in out.splitlines() if line.startswith("DIGEST")]


# (ids that name no part: `pytest -k 2A` selects the 2A Go tests alone)
@pytest.mark.parametrize("part", ["2A", "2D"], ids=["elections", "snapshots"])
def test_a_seed_is_the_same_run_every_time_in_any_process(part: str) -> None:
    # The whole record (every RPC, with its virtual times), the nemesis's
    # actions and the verdict: twice in one process, once in another.
    first = _digests(part, [11, 11, 12], "1")
    again = _digests(part, [11], "2")
    assert first[0] == first[1] == again[0]
    assert first[2] != first[0]
    assert int(first[0].split()[3]) > 100  # a real run: many events


def test_a_seed_of_its_own_size_given_with_peers_is_the_same_run() -> None:
    script = ("from labtools.chaos.scenario import run_seed, seed_generator\n"
              "size = seed_generator(21, '2B')[1]\n"
              "a = run_seed(21, '2B', keep_events=True)\n"
              "b = run_seed(21, '2B', peers=size, keep_events=True)\n"
              "other = 3 if size != 3 else 5\n"
              "c = run_seed(21, '2B', peers=other)\n"
              "print('SAME', a.events == b.events and a.actions == b.actions, "
              "a.peers == size, c.peers == other)\n")
    code, out = _run([sys.executable, "-c", script], ROOT)
    assert code == 0, out
    assert "SAME True True True" in out, out


# --- planted bugs ------------------------------------------------------------------------


def _failure(out: str) -> Tuple[str, str, str]:
    """(the FAIL line without its wall-clock part, the broken rule, the replay command)."""
    fail = re.search(r"^raft-chaos: FAIL (.*?) \(after", out, re.M)
    rule = re.search(r"^broken rule: (.*)$", out, re.M)
    replay = re.search(r"^replay: (raft-chaos .*)$", out, re.M)
    assert fail and rule and replay, out
    return fail.group(1), rule.group(1), replay.group(1)


def test_a_planted_bug_is_found_named_and_replayed_exactly(tmp_path: Path) -> None:
    (bug,) = catalogue(["term_not_updated_from_reply"])
    tree = bug.lab_tree(tmp_path / "tree")
    records = tmp_path / "records"
    code, out = _chaos(tree, "--parts", "2B", "--seeds", "1-200", "-p", "2",
                       "--record-failed", str(records))
    assert code == 1, out
    fail, rule, replay = _failure(out)
    assert rule == "adopt a higher term from a reply"
    assert "  Raft rule broken: adopt a higher term from a reply: S" in out
    assert "what the nemesis did" in out
    assert re.fullmatch(r"raft-chaos --parts 2B --peers [357] --seeds (\d+)-\1", replay), replay
    saved = Path(re.search(r"^record: (\S+)", out, re.M).group(1))
    violations = [event for event in Record.load(saved).events
                  if event["kind"] == "violation"]
    assert violations[0]["rule"] == "adopt a higher term from a reply"
    # The replay: the same seed fails the same way, at the same virtual instant.
    code, again = _chaos(tree, *replay.split()[1:], "-p", "1")
    assert code == 1, again
    assert _failure(again) == (fail, rule, replay)
    first_message = out.split("broken rule:")[1].splitlines()[1]
    assert first_message in again


@pytest.mark.parametrize("bug_name, part, rule", [
    ("term_not_updated_from_vote_reply", "2A", "adopt a higher term from a reply"),
    ("stale_vote_counted", "2A", "a leader is elected by a majority"),
], ids=["term_not_updated_from_vote_reply", "stale_vote_counted"])
def test_the_new_monitors_fire_on_their_planted_bugs(tmp_path: Path, bug_name: str,
                                                     part: str, rule: str) -> None:
    (bug,) = catalogue([bug_name])
    code, out = _chaos(bug.lab_tree(tmp_path / "tree"), "--parts", part, "--seeds", "1-1000",
                       "-p", "2")
    assert code == 1, out
    assert _failure(out)[1] == rule


def test_a_worker_that_dies_mid_seed_fails_that_seed(tmp_path: Path) -> None:
    source = SOLUTION.read_text().replace(
        "    rf = Raft(peers, me, persister, applyCh)\n",
        "    rf = Raft(peers, me, persister, applyCh)\n    import os; os._exit(7)\n", 1)
    tree = lab_tree(tmp_path / "tree", source)
    code, out = _chaos(tree, "--parts", "2A", "--seeds", "4-4", "-p", "1")
    assert code == 1, out
    assert "broken rule: the worker process ended mid-seed" in out
    assert "exited with status 7" in out
    assert re.search(r"replay: raft-chaos --parts 2A --peers [357] --seeds 4-4$", out, re.M)


# --- the cluster's wiring ------------------------------------------------------------------


def _links(cfg: Any) -> List[Tuple[int, int]]:
    """Which peer can call which (the network's enabled ends)."""
    return [(i, j) for i in range(cfg.n) for j in range(cfg.n)
            if i != j and cfg.endnames[i] is not None
            and cfg.net._enabled[cfg.endnames[i][j]]]


def test_partitions_bridges_one_way_cuts_and_restarts_wire_the_ends() -> None:
    t = T(echo=False)
    with make_config(t, 5, False) as cfg:
        cluster = Cluster(cfg)
        cluster.partition([[0, 1], [2, 3, 4]])
        assert _links(cfg) == [(0, 1), (1, 0), (2, 3), (2, 4), (3, 2), (3, 4), (4, 2), (4, 3)]
        assert cfg.connected == [False, False, True, True, True]
        cluster.bridge([0, 1], 2, [3, 4])
        assert set(_links(cfg)) == {(0, 1), (1, 0), (3, 4), (4, 3), (0, 2), (2, 0), (1, 2),
                                    (2, 1), (2, 3), (3, 2), (2, 4), (4, 2)}
        cluster.heal()
        cluster.cut_one_way([0], [1, 2, 3, 4])
        assert not any(i == 0 for i, _ in _links(cfg))
        assert (1, 0) in _links(cfg)
        cluster.crash(3)
        assert cluster.crashed() == [3] and not any(3 in link for link in _links(cfg))
        cluster.restart(3)  # a new incarnation, in the largest group, with no cut of its own
        assert (3, 0) in _links(cfg) and (0, 3) in _links(cfg) and (0, 1) not in _links(cfg)
        cluster.heal()
        assert len(_links(cfg)) == 20
        actions = [text for _, text in cluster.actions]
    assert actions[:3] == ["partition S0 S1 | S2 S3 S4",
                           "bridge: S0 S1 and S3 S4 meet only through S2",
                           "heal: one network"]
    assert "one-way cut: S0 cannot call S1 S2 S3 S4 (calls the other way still work)" in actions
    assert "crash S3" in actions and "restart S3 (with S0 S1 S2 S4)" in actions
    kinds = [event.get("action") for event in cfg.record.of_kind("harness")]
    assert {"partition", "bridge", "one-way cut", "crash", "start"} <= set(kinds)


# --- the monitors, on made-up records -------------------------------------------------------

RV, AE = "Raft.RequestVote", "Raft.AppendEntries"


class Feed:
    """A record fed by hand, with one monitor on it."""

    def __init__(self, monitor: Any, peers: int = 3, **options: Any) -> None:
        self.clock = 0.0
        self.record = Record(clock=lambda: self.clock)
        self.reports: List[str] = []
        self.notes: List[str] = []
        self.ids = 0
        monitor.attach(self.record, peers, self.reports.append, self.notes.append, **options)

    def rpc(self, method: str, src: int, dst: int, term: int, reply: Optional[dict],
            sent: float, outcome: str = "ok", src_life: int = 1, **args: Any) -> None:
        done = sent + 0.002
        self.clock = max(self.clock, done)
        self.ids += 1
        self.record.add("rpc", id=self.ids, src=src, dst=dst, method=method,
                        args={"Term": term, **args}, reply=reply, bytes=10, sent=sent,
                        handled=sent + 0.001, handler_done=sent + 0.0015, done=done,
                        outcome=outcome, reordered=False, src_life=src_life, dst_life=1,
                        delivered=True)
        self.record.flush()

    def harness(self, at: float, action: str, **fields: Any) -> None:
        self.clock = max(self.clock, at)
        self.record.add("harness", action=action, **fields)
        self.record.flush()

    def violations(self) -> List[dict]:
        return self.record.of_kind("violation")


def test_reply_terms_fires_on_an_older_term_sent_long_after_a_newer_reply() -> None:
    feed = Feed(reply_terms, grace=reply_terms.SIM_GRACE_S)
    feed.rpc(AE, 0, 1, 3, {"Term": 5, "Success": False}, sent=1.000)
    # Built before the reply came, sent just after: within the grace.
    feed.rpc(AE, 0, 2, 3, {"Term": 3, "Success": True},
             sent=1.002 + reply_terms.SIM_GRACE_S / 2)
    assert feed.reports == []
    feed.rpc(AE, 0, 2, 3, {"Term": 3, "Success": True}, sent=1.200)
    (violation,) = feed.violations()
    assert violation["rule"] == "adopt a higher term from a reply"
    assert violation["message"] == (
        "S0 heard of term 5 in a reply to its AppendEntries to S1 (t=1.002 s), yet sent "
        "AppendEntries of term 3 to S2 0.198 s later (t=1.200 s): a reply's newer term must "
        "be taken at once")
    assert violation["evidence"] == [0, 2]  # the seqs of the reply and the late request
    assert feed.reports[0].startswith("Raft rule broken: adopt a higher term from a reply: S0")


def test_reply_terms_is_silent_on_what_proves_nothing() -> None:
    feed = Feed(reply_terms, grace=reply_terms.SIM_GRACE_S)
    feed.rpc(RV, 0, 1, 3, {"Term": 5, "VoteGranted": False}, sent=1.0)
    feed.rpc(RV, 0, 2, 6, {"Term": 6, "VoteGranted": True}, sent=1.3)  # it took term 5, and on
    # A dropped reply told its caller nothing.
    feed.rpc(AE, 1, 0, 2, {"Term": 9, "Success": False}, sent=2.0, outcome="reply_dropped")
    feed.rpc(AE, 1, 0, 2, None, sent=2.5, outcome="disconnected")
    # A restarted peer is a new incarnation; a crashed one's sends reach no one.
    feed.rpc(AE, 2, 0, 4, {"Term": 7, "Success": False}, sent=3.0)
    feed.harness(3.1, "crash", peer=2, life=1)
    feed.rpc(AE, 2, 1, 4, None, sent=3.5, outcome="disconnected")
    feed.rpc(RV, 2, 1, 5, {"Term": 5, "VoteGranted": True}, sent=3.6, src_life=2)
    assert feed.reports == [] and feed.violations() == []
    assert reply_terms.stale_sends(feed.record.events) == []


def test_a_lag_under_the_grace_is_measured_but_not_a_violation() -> None:
    # In real time (no simulation here) the grace is long: a loaded machine
    # may leave the thread that takes a reply waiting.
    feed = Feed(reply_terms)
    feed.rpc(AE, 0, 1, 3, {"Term": 4, "Success": False}, sent=1.0)
    feed.rpc(AE, 0, 2, 3, None, sent=1.012, outcome="disconnected")
    feed.rpc(AE, 0, 2, 3, None, sent=1.002 + reply_terms.REAL_GRACE_S / 2,
             outcome="disconnected")
    assert feed.reports == []
    (first, second) = reply_terms.stale_sends(feed.record.events)
    assert first[0] == pytest.approx(0.010) and first[1]["id"] == 1 and first[2]["id"] == 2
    assert reply_terms.largest_lag(feed.record.events) == pytest.approx(
        reply_terms.REAL_GRACE_S / 2)


def _vote(feed: Feed, candidate: int, voter: int, term: int, granted: bool, sent: float,
          **kw: Any) -> None:
    feed.rpc(RV, candidate, voter, term, {"Term": term, "VoteGranted": granted}, sent=sent,
             CandidateId=candidate, LastLogIndex=0, LastLogTerm=0, **kw)


def test_leader_votes_fires_on_a_leader_without_a_majority_of_its_terms_votes() -> None:
    feed = Feed(leader_votes, peers=5)
    _vote(feed, 0, 1, 3, True, sent=1.0)   # a vote of an earlier election
    _vote(feed, 0, 1, 4, True, sent=1.5)
    _vote(feed, 0, 2, 4, False, sent=1.5)
    _vote(feed, 0, 3, 4, True, sent=1.5, outcome="reply_dropped")  # never reached S0
    feed.rpc(AE, 0, 1, 4, {"Term": 4, "Success": True}, sent=1.6)
    (violation,) = feed.violations()
    assert violation["rule"] == "a leader is elected by a majority"
    assert violation["message"] == (
        "S0 acted as leader of term 4 (AppendEntries to S1 at t=1.600 s) with votes from "
        "itself and 1 other peer(s) of 5 (S1) granted in term 4 by then: a majority needs 3")
    assert feed.reports[0].startswith("Raft rule broken: a leader is elected by a majority")


def test_leader_votes_is_silent_on_a_real_majority() -> None:
    feed = Feed(leader_votes, peers=5)
    _vote(feed, 0, 1, 4, True, sent=1.5)
    _vote(feed, 0, 2, 4, True, sent=1.5)
    feed.rpc(AE, 0, 3, 4, {"Term": 4, "Success": True}, sent=1.6)
    lone = Feed(leader_votes, peers=1)
    lone.rpc(AE, 0, 0, 1, None, sent=0.5, outcome="disconnected")
    assert feed.reports == [] and lone.reports == []


def test_leader_votes_counts_only_replies_that_came_before_the_request() -> None:
    feed = Feed(leader_votes, peers=3)
    feed.rpc(AE, 0, 1, 2, None, sent=1.0, outcome="disconnected")  # sent first...
    _vote(feed, 0, 1, 2, True, sent=1.1)                           # ... its vote came later
    assert len(feed.violations()) == 1


def test_leader_votes_without_vote_granted_says_so_once() -> None:
    feed = Feed(leader_votes)
    feed.rpc(RV, 0, 1, 2, {"Term": 2, "Granted": True}, sent=1.0)
    feed.rpc(RV, 0, 2, 2, {"Term": 2, "Granted": True}, sent=1.0)
    feed.rpc(AE, 0, 1, 2, {"Term": 2, "Success": True}, sent=1.1)
    assert feed.reports == []
    assert feed.notes == ["monitor: cannot check 'a leader is elected by a majority': "
                          "RequestVote's reply has no VoteGranted (Figure 2's name, any case, "
                          "underscores ignored)"]


def test_the_solution_breaks_neither_new_rule_in_the_go_tests_under_sim() -> None:
    code, out = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      "--sim", "--sim-seeds=1-3", "-k",
                      "TestReElection2A or TestFailAgree2B or TestFigure82C",
                      "src/raft/test_raft.py"], ROOT)
    assert code == 0, out[-3000:]
    assert "9 passed" in out, out[-3000:]


@pytest.mark.violations_expected
def test_the_harness_watches_every_cluster_with_both_new_monitors() -> None:
    # Planted from outside: S7 (no peer of the cluster) sends AppendEntries of a
    # term it never won.
    import raft.raft as raft
    t = T(echo=False)
    cfg = make_config(t, 3, False)
    try:
        cfg.checkOneLeader()  # every peer is in term 1 or more
        end = cfg.net.MakeEnd("outsider")
        cfg.net.Connect("outsider", 0)
        cfg.net.label_end("outsider", src=7, src_life=1)
        cfg.net.Enable("outsider", True)
        assert end.Call("Raft.AppendEntries", raft.AppendEntriesArgs(Term=0, LeaderId=7),
                        raft.AppendEntriesReply())
    finally:
        cfg.cleanup(check=False)
    rules = [event["rule"] for event in cfg.record.of_kind("violation")]
    assert rules == ["a leader is elected by a majority"]
    graces = [fn.grace for fn in cfg.record._subscribers
              if isinstance(fn, reply_terms.ReplyTerms)]
    assert graces == [reply_terms.REAL_GRACE_S]  # in real time
