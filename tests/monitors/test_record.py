"""The run's record: labrpc.record.Record, labrpc's rpc events, the harness's events."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import pytest

from labrpc import MakeNetwork, MakeServer, MakeService
from labrpc.record import Record, plain
from monitors import recording
from raft import util
from raft.config import make_config
from labtest.testing import T


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_events_are_numbered_timed_and_seen_by_subscribers() -> None:
    clock = FakeClock()
    record = Record(clock=clock)
    seen: List[dict] = []
    record.subscribe(seen.append)
    clock.now = 101.5
    first = record.add("harness", action="crash", peer=2)
    clock.now = 102.0
    record.add("log", peer=None, text="hello")
    assert first == {"seq": 0, "t": 1.5, "kind": "harness", "action": "crash", "peer": 2}
    assert [e["seq"] for e in record.events] == [0, 1]
    assert record.events[1]["t"] == 2.0
    assert seen == record.events


def test_save_and_load_give_back_the_same_events(tmp_path: Path) -> None:
    record = Record()
    record.add("meta", test="x", peers=3, format=1)
    record.add("rpc", args={"Data": b"\x00\xffsnap", "Entries": [{"Term": 1}]}, reply=None)
    path = tmp_path / "run.jsonl"
    record.save(path)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["kind"] == "meta"
    again = Record.load(path)
    assert again.events == record.events


def test_load_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"seq": 0, "t": 0, "kind": "meta"}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a JSON event"):
        Record.load(path)
    path.write_text('{"seq": 0, "kind": "meta"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: an event needs seq, t and kind"):
        Record.load(path)


@dataclass
class Entry:
    Term: int = 0
    Command: object = None


@dataclass
class Args:
    Term: int = 0
    Entries: List[Entry] = field(default_factory=list)


def test_plain_turns_objects_into_their_fields() -> None:
    value = Args(3, [Entry(1, "x"), Entry(2, (1, 2))])
    assert plain(value) == {"Term": 3, "Entries": [{"Term": 1, "Command": "x"},
                                                   {"Term": 2, "Command": [1, 2]}]}
    assert plain(threading.Lock()).startswith("<unlocked _thread.lock")


@dataclass
class EchoReply:
    Term: int = 0
    Ok: bool = False


class Echo:
    def HandlerAsk(self, args: Args, reply: EchoReply) -> None:
        reply.Term = args.Term + 1
        reply.Ok = True


def test_each_call_adds_one_rpc_event_with_what_the_network_saw() -> None:
    record = Record()
    with MakeNetwork() as net:
        net.attach_record(record)
        server = MakeServer()
        server.labels = {"dst_life": 7}
        server.AddService(MakeService(Echo()))
        net.AddServer(1, server)
        end = net.MakeEnd("e")
        net.Connect("e", 1)
        net.label_end("e", src=0, src_life=3)
        net.Enable("e", True)
        reply = EchoReply()
        assert end.Call("Echo.HandlerAsk", Args(4, [Entry(4, "c")]), reply)
        net.Enable("e", False)
        assert not end.Call("Echo.HandlerAsk", Args(5), EchoReply())
    ok, cut = record.of_kind("rpc")
    assert ok["src"] == 0 and ok["dst"] == 1 and ok["method"] == "Echo.HandlerAsk"
    assert ok["args"] == {"Term": 4, "Entries": [{"Term": 4, "Command": "c"}]}
    assert ok["reply"] == {"Term": 5, "Ok": True}
    assert ok["outcome"] == "ok" and ok["reordered"] is False
    assert ok["src_life"] == 3 and ok["dst_life"] == 7
    assert ok["sent"] <= ok["handled"] <= ok["handler_done"] <= ok["done"]
    assert ok["bytes"] > 0
    assert ok["delivered"] is True and cut["delivered"] is False
    assert cut["outcome"] == "disconnected" and cut["reply"] is None
    assert cut["handled"] is None


def test_a_dead_server_and_a_closed_network_are_told_apart() -> None:
    record = Record()
    net = MakeNetwork()
    net.attach_record(record)
    end = net.MakeEnd("e")
    net.Connect("e", 9)
    net.Enable("e", True)
    assert not end.Call("Echo.HandlerAsk", Args(), EchoReply())
    net.Cleanup()
    assert not end.Call("Echo.HandlerAsk", Args(), EchoReply())
    assert [e["outcome"] for e in record.of_kind("rpc")] == ["dead_server", "cleanup"]


def test_without_a_record_calls_add_nothing() -> None:
    with MakeNetwork() as net:
        assert net.record is None
        server = MakeServer()
        server.AddService(MakeService(Echo()))
        net.AddServer(1, server)
        end = net.MakeEnd("e")
        net.Connect("e", 1)
        net.Enable("e", True)
        assert end.Call("Echo.HandlerAsk", Args(1), EchoReply())


def test_the_harness_records_its_actions_rpcs_and_applies() -> None:
    with make_config(T("TestRecorded", echo=False), 3, False) as cfg:
        cfg.begin("Test: recorded")
        leader = cfg.checkOneLeader()
        cfg.one(101, 3, False)
        cfg.disconnect(leader)
        cfg.crash1((leader + 1) % 3)
        cfg.start1((leader + 1) % 3)
        cfg.end()
    events = cfg.record.events
    assert events[0]["kind"] == "meta"
    assert events[0]["test"] == "TestRecorded" and events[0]["peers"] == 3
    actions = [e["action"] for e in events if e["kind"] == "harness"]
    for action in ("start", "connect", "begin", "check", "Start", "apply", "disconnect",
                   "crash", "end", "cleanup"):
        assert action in actions, action
    starts = [e for e in events if e.get("action") == "start"]
    assert [(e["peer"], e["life"]) for e in starts][-1] == ((leader + 1) % 3, 2)
    applied = [e for e in events if e.get("action") == "apply"]
    assert {e["peer"] for e in applied} == {0, 1, 2}
    assert all(e["command"] == 101 and e["index"] == 1 for e in applied)
    accepted = [e for e in events if e.get("action") == "Start" and e["is_leader"]]
    assert accepted[0]["command"] == 101 and accepted[0]["peer"] == leader
    checks = [e for e in events if e.get("action") == "check"]
    assert checks[0]["name"] == "checkOneLeader" and checks[0]["result"] == leader
    rpcs = [e for e in events if e["kind"] == "rpc"]
    assert {e["method"] for e in rpcs} >= {"Raft.RequestVote", "Raft.AppendEntries"}
    assert all(e["src"] in (0, 1, 2) and e["dst"] in (0, 1, 2) for e in rpcs)
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert not [e for e in events if e["kind"] == "violation"]


def test_recording_off_leaves_cfg_record_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(recording.RECORD_ENV, "0")
    with make_config(T(echo=False), 3, False) as cfg:
        assert cfg.record is None
        assert cfg.net.record is None


def test_dprintf_lines_are_tied_to_their_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(util, "Debug", True)
    with make_config(T(echo=False), 3, False) as cfg:
        cfg.checkOneLeader()
    lines = cfg.record.of_kind("log")
    assert lines, "the solution logs elections"
    for event in lines:
        assert event["peer"] in (0, 1, 2)
        assert f"S{event['peer']} " in event["text"], event


def test_logview_reads_a_saved_record(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from labtools import logview
    clock = FakeClock()
    record = Record(clock=clock)
    record.add("meta", test="TestX", peers=3, format=1)
    clock.now = 101.25
    record.add("log", peer=1, text="LEADER S1 T2 leader    won the election with 2 votes")
    record.add("harness", action="crash", peer=2, life=1)
    record.add("violation", rule="one vote per term", source="Figure 2", message="S2 voted",
               peers=[2], term=4)
    path = tmp_path / "run.jsonl"
    record.save(path)
    assert logview.main([str(path), "--no-color", "--width", "120"]) == 0
    out = capsys.readouterr().out
    assert "== TestX ==" in out
    assert "1.250" in out and "LEADER T2 leader    won the election" in out
    assert "HARNESS crash life=1" in out
    assert "VIOLATION one vote per term: S2" in out


RECORDS_OF_CONFTEST = '''
import pytest
from monitors.pytest_plugin import records_of


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.when == "call":
        records = records_of(item)
        tests = [record.events[0]["test"] for record in records]
        print(f"RECORDS {len(records)} {tests} {records[0].events[-1]['action']}")
'''

RECORDS_OF_TEST = '''
from raft.config import make_config


def test_two_clusters(t):
    with make_config(t, 3, False):
        pass
    with make_config(t, 5, False):
        pass
'''


def test_records_of_gives_every_cluster_a_test_made(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(RECORDS_OF_CONFTEST)
    (tmp_path / "test_two.py").write_text(RECORDS_OF_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_two.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "1 passed" in result.stdout, result.stdout
    assert "RECORDS 2 ['test_two_clusters', 'test_two_clusters'] cleanup" in result.stdout
