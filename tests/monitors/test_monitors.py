"""The monitors: each rule caught on a made-up record with its exact message,
planted bugs from the catalogue caught in real runs, the solution silent, and
applyCh's deadlock reported."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

import pytest

from labrpc.record import Record
import monitors.rules as monitors
from monitors.dispatch import Monitors
from monitors.rules.leader_has_a_majority import LeaderHasAMajority
from labtest import applych
from raft.config import make_config
from labtest.testing import T, TestFailure

from tests.bugs import catalogue

REPO = Path(__file__).resolve().parents[2]


RV, AE, IS = "Raft.RequestVote", "Raft.AppendEntries", "Raft.InstallSnapshot"


# The made-up records below show leaders without the elections that made
# them; the rule that a leader had a majority's votes is tested on records
# of its own (test_reply_and_majority_rules.py).
RULES_BUT_THE_MAJORITY = tuple(rule for rule in monitors.RULES
                               if rule is not LeaderHasAMajority)


class Run:
    """A record fed by hand, with the monitors on it (all but the majority rule)."""

    def __init__(self, peers: int = 3) -> None:
        self.clock = 0.0
        self.record = Record(clock=lambda: self.clock)
        self.reports: List[str] = []
        self.notes: List[str] = []
        self.ids = 0
        self.record.subscribe(Monitors(self.record, peers, self.reports.append,
                                       self.notes.append, RULES_BUT_THE_MAJORITY))

    def rpc(self, method: str, src: int, dst: int, args: dict, reply: Optional[dict],
            sent: float, handled: Optional[float] = None, outcome: str = "ok",
            src_life: int = 1, dst_life: int = 1, delivered: Optional[bool] = None) -> None:
        handled = sent + 0.001 if handled is None and reply is not None else handled
        done = (handled or sent) + 0.002
        self.clock = max(self.clock, done)
        self.ids += 1
        self.record.add("rpc", id=self.ids, src=src, dst=dst, method=method, args=args,
                        reply=reply, bytes=10, sent=sent, handled=handled,
                        handler_done=None if handled is None else handled + 0.0005,
                        done=done, outcome=outcome, reordered=False,
                        src_life=src_life, dst_life=dst_life,
                        delivered=reply is not None if delivered is None else delivered)
        self.record.flush()  # check each event as it comes (the harness flushes at checks)

    def harness(self, at: float, action: str, **fields: Any) -> None:
        self.clock = max(self.clock, at)
        self.record.add("harness", action=action, **fields)
        self.record.flush()

    def vote(self, src: int, dst: int, term: int, at: float, granted: bool = True,
             **kw: Any) -> None:
        self.rpc(RV, src, dst, {"Term": term, "CandidateId": src, "LastLogIndex": 0,
                                "LastLogTerm": 0},
                 {"Term": term, "VoteGranted": granted}, at - 0.001, handled=at, **kw)

    def append(self, src: int, dst: int, term: int, at: float, prev: int = 0,
               prev_term: int = 0, entries: Any = (), commit: int = 0,
               success: bool = True, reply_term: Optional[int] = None, **kw: Any) -> None:
        self.rpc(AE, src, dst, {"Term": term, "LeaderId": src, "PrevLogIndex": prev,
                                "PrevLogTerm": prev_term,
                                "Entries": [{"Term": t, "Command": c} for t, c in entries],
                                "LeaderCommit": commit},
                 {"Term": term if reply_term is None else reply_term, "Success": success},
                 at, **kw)

    def violation(self) -> str:
        assert len(self.reports) == 1, self.reports
        kinds = [e for e in self.record.events if e["kind"] == "violation"]
        assert len(kinds) == 1
        return self.reports[0].splitlines()[0]


def test_one_vote_per_term() -> None:
    run = Run()
    run.vote(0, 2, 4, at=1.204)
    run.vote(1, 2, 4, at=1.311)
    assert run.violation() == (
        "Raft rule broken: one vote per term: S2 voted for S0 (t=1.204 s) and for S1 "
        "(t=1.311 s) in term 4")
    assert "Figure 2, RequestVote RPC, receiver 2" in run.reports[0]
    assert "rpc #2 RequestVote S1 -> S2" in run.reports[0]
    event = run.record.of_kind("violation")[0]
    assert event["rule"] == "one vote per term" and event["term"] == 4
    assert event["peers"] == [2, 0, 1]


def test_one_vote_per_term_across_a_restart_and_with_its_own_vote() -> None:
    run = Run()
    run.vote(0, 2, 4, at=1.0, dst_life=1)
    run.harness(1.5, "crash", peer=2, life=1)
    run.harness(1.6, "start", peer=2, life=2, snapshot_index=0)
    run.vote(1, 2, 4, at=2.0, dst_life=2)
    assert run.violation() == (
        "Raft rule broken: one vote per term: S2 voted for S0 (t=1.000 s) and for S1 "
        "(t=2.000 s) in term 4 (across a restart: votedFor must be persisted)")
    run = Run()
    run.vote(2, 0, 5, at=1.0)  # S2 is a candidate in term 5: it voted for itself
    run.vote(1, 2, 5, at=1.1)
    assert run.violation() == (
        "Raft rule broken: one vote per term: S2 voted for itself (it asked for votes at "
        "t=0.999 s) and for S1 (t=1.100 s) in term 5")


def test_votes_that_stand_no_chance_are_not_counted() -> None:
    run = Run()
    run.vote(0, 2, 4, at=1.0)
    run.vote(0, 2, 4, at=1.1)  # the same candidate again: fine
    run.vote(1, 2, 4, at=1.2, granted=False)
    run.vote(1, 2, 4, at=1.3, outcome="dead_server")  # answered by a dying instance
    run.vote(1, 2, 5, at=1.4)
    assert run.reports == []


def test_election_safety() -> None:
    run = Run()
    run.append(0, 1, 3, at=1.0)
    run.append(0, 2, 3, at=1.01)
    run.append(1, 2, 3, at=2.5, outcome="disconnected", success=False)
    assert run.violation() == (
        "Raft rule broken: election safety: S0 and S1 both acted as leader in term 3: "
        "S0 sent AppendEntries at t=1.000 s, S1 sent AppendEntries at t=2.500 s")


def test_term_goes_backwards_within_a_life_and_across_a_restart() -> None:
    run = Run()
    run.vote(0, 1, 5, at=1.0)  # S0 sent term 5
    run.append(1, 0, 4, at=2.0, success=False)  # then replied in term 4
    assert run.violation() == (
        "Raft rule broken: term never goes backwards: S0 sent term 5 in RequestVote "
        "at t=0.999 s, then replied term 4 in AppendEntries at t=2.001 s")
    run = Run()
    run.vote(1, 0, 5, at=1.0, dst_life=1)
    run.harness(1.5, "crash", peer=0, life=1)
    run.harness(1.6, "start", peer=0, life=2, snapshot_index=0)
    run.vote(0, 1, 1, at=2.0, granted=False, src_life=2)
    assert run.violation().endswith(
        "then sent term 1 in RequestVote at t=1.999 s (across a restart: currentTerm must "
        "be persisted)")


def test_overlapping_handlers_and_stale_args_are_no_evidence() -> None:
    run = Run()
    # Two handlers of S0 overlap: their terms may be seen in either order.
    run.rpc(RV, 1, 0, {"Term": 6}, {"Term": 6, "VoteGranted": False}, 0.9, handled=1.0)
    run.rpc(RV, 2, 0, {"Term": 5}, {"Term": 5, "VoteGranted": False}, 0.9, handled=1.0003)
    # Args built before a restart and never persisted: no evidence.
    run.append(1, 2, 7, at=2.0, success=False, reply_term=8, src_life=1)
    run.harness(2.1, "start", peer=1, life=2, snapshot_index=0)
    run.rpc(RV, 1, 2, {"Term": 6}, {"Term": 8, "VoteGranted": False}, 2.5, src_life=2)
    # A sender's args may be older than what it said since, within a life.
    run.vote(2, 1, 9, at=3.0, granted=False, src_life=2, dst_life=2)
    run.append(1, 0, 8, at=3.5, success=False, reply_term=9, src_life=2)
    assert run.reports == []


def test_stale_term_accepted() -> None:
    run = Run()
    run.append(0, 1, 2, at=1.0, reply_term=3, success=True)
    assert run.violation() == (
        "Raft rule broken: stale term rejected: AppendEntries accepted: S1 was in term 3 "
        "and accepted AppendEntries of term 2 from S0 (t=1.001 s)")


def test_heartbeat_rate() -> None:
    run = Run()
    for k in range(21):  # ten a second, and the window's edge
        run.append(0, 1, 1, at=1.0 + 0.1 * k)
    assert run.reports == []
    run = Run()
    for k in range(22):
        run.append(0, 1, 1, at=1.0 + 0.05 * k)
    assert run.violation() == (
        "Raft rule broken: heartbeat rate: S0 sent idle S1 22 AppendEntries in 1.05 s "
        "(t=1.000 s to t=2.050 s) in term 1: none carried entries or a new LeaderCommit, "
        "and each earlier one was answered with success; at most 10 a second are allowed")


def test_heartbeats_that_carry_something_are_allowed() -> None:
    run = Run()
    for k in range(40):  # a new entry or a new commit index each time
        run.append(0, 1, 1, at=1.0 + 0.02 * k, prev=k, prev_term=1 if k else 0,
                   entries=[(1, k)], commit=k)
    assert run.reports == []


def test_commit_needs_a_majority() -> None:
    run = Run(peers=5)
    run.append(0, 1, 2, at=1.0, entries=[(2, "x")], commit=0)
    run.append(0, 1, 2, at=1.1, prev=1, prev_term=2, commit=1)
    assert run.violation() == (
        "Raft rule broken: commit needs a majority: S0 told followers index 1 was committed "
        "(LeaderCommit 1, t=1.100 s) in term 2, but only S0, S1 had acknowledged holding it "
        "by then (2 of 5)")


def test_commit_only_current_term_entries() -> None:
    run = Run()
    run.append(0, 1, 3, at=1.0, entries=[(1, "old")], commit=0)
    run.append(0, 2, 3, at=1.0, entries=[(1, "old")], commit=0)
    run.append(0, 1, 3, at=1.1, prev=1, prev_term=1, commit=1)
    assert run.violation() == (
        "Raft rule broken: commit only current-term entries: S0, leader in term 3, committed "
        "index 1 (LeaderCommit at t=1.100 s), an entry of term 1, with no entry of term 3 "
        "committed above it (Figure 8)")


def test_a_commit_index_inherited_from_earlier_terms_is_fine() -> None:
    run = Run()
    run.append(0, 1, 3, at=1.0, prev=4, prev_term=1, commit=4)
    run.append(0, 2, 3, at=1.0, prev=4, prev_term=1, commit=4)
    run.append(0, 1, 3, at=1.1, prev=4, prev_term=1, entries=[(3, "new")], commit=4)
    run.append(0, 2, 3, at=1.1, prev=4, prev_term=1, entries=[(3, "new")], commit=4)
    run.append(0, 1, 3, at=1.2, prev=5, prev_term=3, commit=5)
    assert run.reports == []


def test_follower_commit_bound() -> None:
    run = Run()
    run.append(0, 1, 1, at=1.0, entries=[(1, "a")], commit=0)
    run.append(0, 2, 1, at=1.0, entries=[(1, "a")], commit=0)
    run.append(0, 1, 1, at=1.2, prev=1, prev_term=1, commit=1)
    run.harness(1.3, "apply", peer=1, life=1, index=1, command="a")  # allowed
    run.harness(1.4, "apply", peer=1, life=1, index=2, command="b")  # never allowed
    assert run.reports == []  # replies may still be on their way
    run.harness(7.0, "check", name="checkOneLeader", ok=True, result=0)
    assert run.violation() == (
        "Raft rule broken: follower commit bound: S1 applied index 2 at t=1.400 s, but the "
        "AppendEntries it had accepted allowed it to commit only through index 1")


def test_an_append_entries_whose_handler_ran_unseen_may_have_allowed_a_commit() -> None:
    run = Run()
    run.append(0, 1, 1, at=1.0, entries=[(1, "a"), (1, "b")], commit=0)
    run.append(0, 2, 1, at=1.0, entries=[(1, "a"), (1, "b")], commit=0)
    # Delivered, but the caller stopped waiting (S1 was cut off): no reply seen.
    run.rpc(AE, 0, 1, {"Term": 1, "PrevLogIndex": 2, "PrevLogTerm": 1, "Entries": [],
                       "LeaderCommit": 2}, None, 1.2, outcome="disconnected", delivered=True)
    run.harness(1.4, "apply", peer=1, life=1, index=2, command="b")
    run.harness(7.0, "check", name="checkOneLeader", ok=True, result=0)
    assert run.reports == []


def test_a_missing_field_is_said_once() -> None:
    run = Run()
    run.rpc(RV, 0, 2, {"term": 1}, {"term": 1, "granted": True}, 1.0)
    run.rpc(RV, 1, 2, {"term": 1}, {"term": 1, "granted": True}, 1.1)
    assert run.reports == []
    assert run.notes == [
        "monitor: cannot check 'one vote per term': RequestVote's reply has no VoteGranted "
        "(Figure 2's name, any case, underscores ignored)"]


def test_field_names_match_whatever_their_case() -> None:
    run = Run()
    run.rpc(RV, 0, 2, {"term": 4}, {"term": 4, "vote_granted": True}, 1.0)
    run.rpc(RV, 1, 2, {"term": 4}, {"term": 4, "vote_granted": True}, 1.1)
    assert run.violation().startswith("Raft rule broken: one vote per term: S2 voted for S0")


def test_nothing_is_checked_after_cleanup() -> None:
    run = Run()
    run.vote(0, 2, 4, at=1.0)
    run.harness(1.5, "cleanup")
    run.vote(1, 2, 4, at=1.1)
    assert run.reports == []


def test_the_solution_breaks_no_rule_in_an_unreliable_run() -> None:
    t = T(echo=False)
    with make_config(t, 5, True) as cfg:
        for k in range(10):
            cfg.one(k, 1, True)
        leader = cfg.checkOneLeader()
        cfg.disconnect(leader)
        cfg.crash1((leader + 1) % 5)
        for k in range(10, 15):
            cfg.one(k, 2, True)
        cfg.start1((leader + 1) % 5)
        cfg.connect((leader + 1) % 5)
        cfg.connect(leader)
        cfg.one(99, 5, True)
    assert cfg.record.of_kind("violation") == []
    assert t.later_failure() is None


# --- applyCh: Go's unbuffered channel ---------------------------------------------


def test_put_waits_until_the_reader_takes_the_message() -> None:
    channel = applych.ApplyChannel()
    done = threading.Event()

    def put() -> None:
        channel.put("m")
        done.set()
    putter = threading.Thread(target=put)
    putter.start()
    assert not done.wait(0.2), "put returned before anyone took the message"
    assert channel.get() == "m"
    assert done.wait(1.0)
    putter.join()
    channel.close()
    assert channel.get() is applych.CLOSED
    channel.put("after close")  # returns at once: the peer is gone


def test_put_with_a_timeout_raises_full() -> None:
    import queue
    channel = applych.ApplyChannel()
    with pytest.raises(queue.Full):
        channel.put("m", timeout=0.05)
    with pytest.raises(queue.Full):
        channel.put("m", block=False)


def test_the_classic_applych_deadlock_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(applych, "DEADLOCK_S", 0.3)
    reports: List[str] = []
    channel = applych.ApplyChannel(peer=1, on_deadlock=reports.append)
    mu = threading.Lock()

    def peer_applier() -> None:  # holds its lock while it puts
        with mu:
            channel.put("msg 1")
            channel.put("msg 2")

    def snapshot() -> None:
        with mu:
            pass

    def tester_reader() -> None:
        while channel.get() is not applych.CLOSED:
            with channel.reader_calls("Snapshot(1, ...)"):
                snapshot()
    threads = [threading.Thread(target=peer_applier, name="raft-S1-applier"),
               threading.Thread(target=tester_reader, name="config-applier-S1")]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while not reports and time.monotonic() < deadline:
        time.sleep(0.05)
    for thread in threads:  # the report broke the deadlock: both threads end
        thread.join(2)
        assert not thread.is_alive()
    assert len(reports) == 1
    first = reports[0].splitlines()[0]
    assert first.startswith("applyCh deadlock: S1's thread raft-S1-applier has waited ")
    assert "in applyCh.put(ApplyMsg index None) for the tester to take it, while the " \
        "tester's reader (config-applier-S1) has waited" in first
    assert "in rf.Snapshot(1, ...), which needs S1's lock" in first
    assert "in peer_applier: channel.put(\"msg 2\")" in reports[0]
    assert "in snapshot: with mu:" in reports[0]


# --- planted bugs, caught in real runs ------------------------------------------------


def run_test(tmp_path: Path, bug: str, test: str, *options: str) -> str:
    """Run one Go test on the solution with a bug from the catalogue; its output."""
    (planted,) = catalogue([bug])
    planted.write(tmp_path / "src" / "raft")
    for package in ("labgob", "labrpc", "labtools"):
        (tmp_path / "src" / package).symlink_to(REPO / "src" / package)
    for name in (REPO / "src" / "raft").iterdir():
        if name.suffix == ".py" and name.name != "raft.py":
            (tmp_path / "src" / "raft" / name.name).symlink_to(name)
    (tmp_path / "pytest.ini").write_text("[pytest]\npython_functions = Test*\n")
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, 'src'); import pytest; "
         "sys.exit(pytest.main(sys.argv[1:]))", "-q", "-p", "no:cacheprovider",
         "-p", "labtest.pytest_plugin", f"src/raft/test_raft.py::{test}", *options],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"},
    )
    return result.stdout + result.stderr


def planted(tmp_path: Path, bug: str) -> Any:
    """The solution's raft module with a bug from the catalogue, imported."""
    import importlib.util
    (found,) = catalogue([bug])
    path = found.write(tmp_path / bug)
    spec = importlib.util.spec_from_file_location(f"planted_{bug}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def ask_for_two_votes(module: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Two candidates (S7 and S8, from outside) ask S2 for its vote in term 50."""
    import raft.config
    monkeypatch.setattr(raft.config, "Make", module.Make)
    t = T(echo=False)
    cfg = make_config(t, 3, False)
    try:
        for candidate in (7, 8):
            end = cfg.net.MakeEnd(f"candidate-{candidate}")
            cfg.net.Connect(f"candidate-{candidate}", 2)
            cfg.net.label_end(f"candidate-{candidate}", src=candidate, src_life=1)
            cfg.net.Enable(f"candidate-{candidate}", True)
            args = module.RequestVoteArgs(Term=50, CandidateId=candidate, LastLogIndex=9,
                                          LastLogTerm=49)
            assert end.Call("Raft.RequestVote", args, module.RequestVoteReply())
    finally:
        cfg.cleanup(check=False)
    return cfg


@pytest.mark.violations_expected
def test_a_planted_double_vote_is_caught_at_once(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = ask_for_two_votes(planted(tmp_path, "vote_twice"), monkeypatch)
    (violation,) = cfg.record.of_kind("violation")
    assert violation["rule"] == "one vote per term"
    assert violation["message"].startswith("S2 voted for S7 (t=")
    assert violation["message"].endswith(") in term 50")
    assert " and for S8 (t=" in violation["message"]
    assert cfg.t.later_failure().startswith("Raft rule broken: one vote per term: S2 voted")


def test_the_solution_gives_one_vote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import raft.raft
    cfg = ask_for_two_votes(raft.raft, monkeypatch)
    assert cfg.record.of_kind("violation") == []
    grants = [e["reply"]["VoteGranted"] for e in cfg.record.of_kind("rpc")
              if e["src"] in (7, 8)]
    assert grants == [True, False]


def test_planted_fast_heartbeats_fail_and_no_monitors_gives_gos_verdict(tmp_path: Path) -> None:
    output = run_test(tmp_path, "heartbeat_too_fast", "TestInitialElection2A")
    assert "E   Raft rule broken: heartbeat rate: S" in output
    assert "at most 10 a second are allowed" in output
    output = run_test(tmp_path / "off", "heartbeat_too_fast", "TestInitialElection2A",
                      "--no-monitors")
    assert "1 passed" in output, output


def test_a_failed_test_saves_its_record(tmp_path: Path) -> None:
    output = run_test(tmp_path, "leader_never_steps_down", "TestReElection2A",
                      "--record-failed", str(tmp_path / "records"))
    assert "Raft rule broken: election safety: S" in output
    (saved,) = (tmp_path / "records").iterdir()
    record = Record.load(saved)
    assert record.events[0]["kind"] == "meta"
    assert record.events[0]["test"] == "TestReElection2A"
    assert record.of_kind("violation")[0]["rule"] == "election safety"


def test_a_field_of_an_odd_shape_stops_the_monitors_without_breaking_the_run() -> None:
    run = Run()
    run.append(0, 1, 1, at=1.0, entries=[(1, "a")])
    run.rpc(AE, 0, 1, {"Term": 1, "PrevLogIndex": "one", "PrevLogTerm": 0, "Entries": [],
                       "LeaderCommit": 3}, {"Term": 1, "Success": True}, 1.1)
    assert run.reports == []
    assert run.notes == ["monitor: stopped checking after an unexpected TypeError on "
                         "event #1: can only concatenate str (not \"int\") to str"]


def test_events_are_checked_in_batches_and_a_flush_or_the_end_checks_the_rest() -> None:
    from monitors.rules import BATCH_EVENTS
    record = Record(clock=lambda: 1.0)
    reports: List[str] = []
    mon = monitors.attach(record, 3, reports.append, lambda line: None)

    def vote(candidate: int) -> None:
        record.add("rpc", id=candidate, src=candidate, dst=2, method=RV,
                   args={"Term": 4}, reply={"Term": 4, "VoteGranted": True}, bytes=1,
                   sent=1.0, handled=1.0, handler_done=1.0, done=1.0, outcome="ok",
                   reordered=False, src_life=1, dst_life=1, delivered=True)

    vote(0)
    vote(1)  # S2's second vote in term 4: held, not yet checked
    assert reports == [] and record.of_kind("violation") == []
    record.flush()
    assert reports[0].startswith("Raft rule broken: one vote per term: S2 voted for S0")
    assert [e["rule"] for e in record.of_kind("violation")] == ["one vote per term"]

    # A full batch is checked without a flush, and so is the harness's end.
    for flushed_by in ("batch", "end"):
        record = Record(clock=lambda: 1.0)
        reports = []
        mon = monitors.attach(record, 3, reports.append, lambda line: None)
        vote(0)
        vote(1)
        if flushed_by == "batch":
            for k in range(BATCH_EVENTS - 2):
                record.add("log", peer=0, text=f"line {k}")
        else:
            record.add("harness", action="end")
        assert len(reports) == 1, flushed_by
    assert mon.stopped


@pytest.fixture
def held_double_vote() -> Iterator[Tuple[T, Any]]:
    """A running cluster whose record holds, unchecked, S2's votes for S0 and S1 in term 99."""
    t = T(echo=False)
    cfg = make_config(t, 3, False)
    try:
        for candidate in (0, 1):
            cfg.record.add("rpc", id=candidate, src=candidate, dst=2, method=RV,
                           args={"Term": 99}, reply={"Term": 99, "VoteGranted": True},
                           bytes=1, sent=1.0, handled=1.0, handler_done=1.0, done=1.0,
                           outcome="ok", reordered=False, src_life=1, dst_life=1)
        yield t, cfg
    finally:
        cfg.cleanup(check=False)


@pytest.mark.violations_expected
def test_the_harness_flushes_the_monitors_at_its_next_check(
        held_double_vote: Tuple[T, Any]) -> None:
    t, cfg = held_double_vote
    assert t.later_failure() is None  # held in the monitors' batch
    with pytest.raises(TestFailure, match="one vote per term: S2 voted for S0"):
        cfg.checkOneLeader()


@pytest.mark.violations_expected
def test_a_go_check_failing_after_a_held_violation_names_the_rule_first(
        held_double_vote: Tuple[T, Any]) -> None:
    t, _ = held_double_vote
    with pytest.raises(TestFailure) as failure:
        t.Fatalf("%d committed but no majority", 2)  # as TestFailNoAgree2B does
    assert str(failure.value).startswith("Raft rule broken: one vote per term: S2 voted for S0")
    assert str(failure.value).endswith("(then: 2 committed but no majority)")


def test_a_lost_or_rejected_append_entries_breaks_a_run_of_heartbeats() -> None:
    run = Run()
    for k in range(30):
        lost = k % 10 == 9
        run.append(0, 1, 1, at=1.0 + 0.05 * k, outcome="reply_dropped" if lost else "ok")
    assert run.reports == []


def test_a_failure_kept_from_another_thread_is_named_first() -> None:
    from labtest.testing import TestFailure
    t = T(echo=False)
    t.fail_later("Raft rule broken: commit needs a majority: ...")
    with pytest.raises(TestFailure) as failure:
        t.Fatalf("%d committed but no majority", 2)
    assert str(failure.value) == ("Raft rule broken: commit needs a majority: ...\n"
                                  "(then: 2 committed but no majority)")


def test_a_planted_applych_deadlock_is_named_and_fails_the_test_soon(tmp_path: Path) -> None:
    t0 = time.monotonic()
    output = run_test(tmp_path, "apply_holding_lock", "TestSnapshotBasic2D")
    assert "1 failed" in output
    assert "E   applyCh deadlock: S" in output
    assert "in _applier: self.applyCh.put(msg)" in output
    assert "in Snapshot: with self.mu:" in output
    assert time.monotonic() - t0 < 60


LATE_VIOLATION = '''
from raft.config import make_config


def test_late(t):
    cfg = make_config(t, 3, False)
    for candidate, at in ((0, 1.0), (1, 1.1)):
        cfg.record.add("rpc", id=candidate, src=candidate, dst=2, method="Raft.RequestVote",
                       args={"Term": 99}, reply={"Term": 99, "VoteGranted": True},
                       bytes=1, sent=at, handled=at, handler_done=at, done=at, outcome="ok",
                       reordered=False, src_life=1, dst_life=1)
    cfg.cleanup(check=False)  # no check of the harness comes after the violation
'''


def test_a_violation_after_the_last_check_fails_the_test_at_its_end(tmp_path: Path) -> None:
    (tmp_path / "test_late.py").write_text(LATE_VIOLATION)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_late.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "1 failed" in result.stdout, result.stdout
    assert "Raft rule broken: one vote per term: S2 voted for S0 (t=1.000 s) and for S1 " \
        "(t=1.100 s) in term 99" in result.stdout


def test_the_grader_quotes_the_broken_rule_and_no_monitors_gives_gos_verdict(
        tmp_path: Path) -> None:
    import json
    (bug,) = catalogue(["heartbeat_too_fast"])
    submission = bug.write(tmp_path / "student")

    def graded(*flags: str) -> dict:
        out = tmp_path / "results.json"
        result = subprocess.run(
            [sys.executable, "-m", "labstaff.grade", str(submission), "--out", str(out),
             "--test", "TestInitialElection2A", *flags],
            capture_output=True, text=True, cwd=tmp_path, timeout=200)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(out.read_text())["tests"][0]

    monitored = graded()
    assert monitored["score"] == 0
    assert monitored["output"].startswith("**Failed:** Raft rule broken: heartbeat rate: S")
    assert graded("--no-monitors")["score"] == 1
