"""The timeline page's content: every event there, in order, roles read right, bad input refused."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.labtools import timeline_records as records
from labtools import timeline
from labtools.timeline_model import RecordError, compact, page_data, roles


def data_of(page: str) -> Dict[str, Any]:
    """The record data a page embeds."""
    found = re.search(r'<script type="application/json" id="record-data">(.*?)</script>',
                      page, re.S)
    assert found, "the page embeds no record data"
    return json.loads(found.group(1))


def rpcs(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [e for e in events if e["kind"] == "rpc"]


@pytest.mark.parametrize("make", [records.failing_reelection, records.everything])
def test_every_rpc_is_on_the_page_in_send_order(make: Any) -> None:
    events = make()
    data = data_of(timeline.render(events))
    calls = rpcs(events)
    assert data["rpc_count"] == len(calls) == len(data["rpc"]["id"])
    by_send = sorted(calls, key=lambda e: (e["sent"], e["seq"]))
    assert data["rpc"]["id"] == [e["id"] for e in by_send]
    assert data["rpc"]["seq"] == [e["seq"] for e in by_send]
    assert data["rpc"]["sent"] == [round(e["sent"] * 1e6) for e in by_send]
    assert [data["rpc"]["sent"][i] + data["rpc"]["done"][i] for i in range(len(calls))] == \
        [round(e["done"] * 1e6) for e in by_send]
    outcomes = Counter(data["outcomes"][o] for o in data["rpc"]["o"])
    assert outcomes == Counter(e["outcome"] for e in calls)
    assert data["lost_count"] == sum(1 for e in calls if e["outcome"] != "ok")
    methods = Counter(data["methods"][m] for m in data["rpc"]["m"])
    assert methods == Counter(e["method"] for e in calls)


def test_every_outcome_and_event_kind_is_drawn() -> None:
    events = records.everything()
    data = data_of(timeline.render(events))
    assert set(data["outcomes"][o] for o in data["rpc"]["o"]) == set(timeline.OUTCOMES)
    types = Counter(m[2] for m in data["marks"])
    harness = Counter(e["action"] for e in events if e["kind"] == "harness")
    assert types["apply"] == harness["apply"]
    assert types["start"] == harness["Start"]
    assert types["check-ok"] + types["check-fail"] == harness["check"]
    assert types["check-fail"] == 1
    # a violation: on the tester's lane, and on each peer it names
    assert sorted(m[1] for m in data["marks"] if m[2] == "violation") == [-1, 1, 2]
    assert types["commit"] > 0
    assert [m[0] for m in data["marks"]] == sorted(m[0] for m in data["marks"])
    assert len(data["logs"]["t"]) == sum(1 for e in events if e["kind"] == "log")
    assert data["crashed"] == [[2, 2_100_000, 2_500_000]]
    assert data["unreliable"] == [[1_000_000, 2_000_000]]
    assert data["reordering"] == [[2_600_000, 3_100_000]]


def test_a_failing_reelection_shows_its_leaders_and_who_was_cut_off() -> None:
    events = records.failing_reelection()
    page = timeline.render(events, verdict="failed", note="expected no leader")
    data = data_of(page)
    assert [(peer, term) for _, peer, term in data["leaders"]] == [(1, 1), (0, 2), (2, 3)]
    end = data["t_end"]
    assert data["cut"] == [[1, 1_000_000, 2_000_000], [0, 2_600_000, end], [1, 2_600_000, end]]
    assert "S1 leads term 1 from 0.292 s" in page
    assert "S0 leads term 2 from 1.316 s" in page
    assert "S1 1.000 s–2.000 s" in page
    assert "Election Safety" in page and "checkNoLeader" in page
    assert '<span class="verdict failed">failed</span>' in page
    # S1 runs, leads term 1, and follows term 2 once it is back and hears of it
    s1 = [b for b in data["bands"] if b[0] == 1]
    assert [(b[3], b[4]) for b in s1] == [(0, 0), (1, 1), (2, 1), (0, 2)]
    # ... from the moment it first answers in term 2 (S0's first heartbeat after 2.0 s)
    first_answer = min(e["handled"] for e in rpcs(events)
                       if e["dst"] == 1 and e["reply"] and e["reply"]["Term"] == 2)
    assert 2.0 < first_answer < 2.05
    assert s1[-1][1] == round(first_answer * 1e6)


def ev(seq: int, t: float, kind: str, **fields: Any) -> Dict[str, Any]:
    return {"seq": seq, "t": t, "kind": kind, **fields}


def call(seq: int, src: int, dst: int, method: str, term: int, reply_term: Any,
         sent: float, outcome: str = "ok", **args: Any) -> Dict[str, Any]:
    reply = None if reply_term is None else {"Term": reply_term}
    return ev(seq, sent + 0.002, "rpc", id=seq, src=src, dst=dst, method=f"Raft.{method}",
              args={"Term": term, **args}, reply=reply, sent=sent,
              handled=None if reply is None else sent + 0.001, done=sent + 0.002,
              outcome=outcome, reordered=False)


def test_roles_follow_the_traffic() -> None:
    events = [
        ev(0, 0.0, "meta", test="x", peers=2, format=1),
        ev(10, 0.0, "harness", action="crash", peer=0),        # start1's setup: not a crash
        ev(11, 0.0, "harness", action="start", peer=0),
        call(1, 0, 1, "RequestVote", 1, 1, sent=0.3),          # 0 runs in term 1
        call(2, 0, 1, "AppendEntries", 1, 1, sent=0.31),       # ... and leads it
        call(3, 1, 0, "RequestVote", 1, 1, sent=0.32),         # a stale ask changes nothing
        ev(4, 0.5, "harness", action="crash", peer=0),
        call(5, 0, 1, "AppendEntries", 1, None, sent=0.6, outcome="disconnected"),
        ev(6, 0.7, "harness", action="start", peer=0),
        call(7, 1, 0, "RequestVote", 2, 2, sent=0.8),          # 1 runs in term 2
        call(8, 1, 0, "AppendEntries", 1, 2, sent=0.9),        # a late, stale send
    ]
    bands = roles(events, 2, 1.0)
    assert [(b[0], b[1], b[3], b[4]) for b in bands] == [
        (0, 0.0, "follower", 0), (0, 0.3, "candidate", 1), (0, 0.31, "leader", 1),
        (0, 0.5, "down", 1), (0, 0.7, "follower", 1), (0, 0.801, "follower", 2),
        (1, 0.0, "follower", 0), (1, 0.301, "follower", 1), (1, 0.8, "candidate", 2),
    ]


def test_a_leader_that_hears_a_newer_term_follows_it() -> None:
    events = [
        ev(0, 0.0, "meta", test="x", peers=2, format=1),
        call(1, 0, 1, "AppendEntries", 3, 5, sent=1.0),
    ]
    assert [(b[3], b[4]) for b in roles(events, 2, 2.0) if b[0] == 0] == [
        ("follower", 0), ("leader", 3), ("follower", 5)]


def test_roles_are_read_under_the_students_field_names_as_the_monitors_read_them() -> None:
    def renamed(event: Dict[str, Any]) -> Dict[str, Any]:
        if event["kind"] != "rpc":
            return event
        args = {"term": event["args"]["Term"]}
        if event["method"].endswith("AppendEntries"):
            args["entries"] = []
        event = dict(event, args=args)
        if event["reply"] is not None:
            event["reply"] = {"TERM": event["reply"]["Term"]}
        return event
    events = [
        ev(0, 0.0, "meta", test="x", peers=2, format=1),
        call(1, 0, 1, "RequestVote", 1, 1, sent=0.3),
        call(2, 0, 1, "AppendEntries", 1, 1, sent=0.31),
        call(3, 0, 1, "AppendEntries", 1, 4, sent=0.5),
    ]
    assert [(b.peer, b.role, b.term) for b in roles(events, 2, 1.0)] == [
        (0, "follower", 0), (0, "candidate", 1), (0, "leader", 1), (0, "follower", 4),
        (1, "follower", 0), (1, "follower", 1), (1, "follower", 4)]
    assert roles([renamed(e) for e in events], 2, 1.0) == roles(events, 2, 1.0)
    data = page_data([renamed(e) for e in events])
    assert data["rpc"]["term"] == [1, 1, 1]
    assert data["rpc"]["hb"] == [0, 1, 1]  # AppendEntries with no entries: heartbeats


def test_the_same_record_gives_the_same_bytes(tmp_path: Path) -> None:
    events = records.everything()
    first = timeline.render(events)
    assert timeline.render(records.everything()) == first
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    assert timeline.render(shuffled) == first
    path = records.write_jsonl(events, tmp_path / "run.jsonl")
    assert timeline.render(path) == first

    class Record:          # what labrpc.record.Record offers the timeline: .events
        pass
    record = Record()
    record.events = events        # type: ignore[attr-defined]
    assert timeline.render(record) == first


def test_the_page_needs_no_network() -> None:
    page = timeline.render(records.everything())
    assert not re.search(r"""(?i)\b(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "<link" not in page and "<script src" not in page


def test_a_log_line_cannot_end_the_data_script() -> None:
    events = records.failing_reelection()
    events.append(ev(len(events), 3.5, "log", peer=0, text="</script><script>alert(1)</script>"))
    page = timeline.render(events)
    assert page.count("</script>") == 3        # the error catcher, the data, the drawing
    assert data_of(page)["logs"]["x"][-1] == "</script><script>alert(1)</script>"


def test_long_fields_are_cut_and_say_so() -> None:
    data = page_data(records.everything())
    snapshot = data["methods"].index("Raft.InstallSnapshot")
    i = data["rpc"]["m"].index(snapshot)
    packed = data["rpc"]["args"][i]
    args = dict(zip(data["schemas"][packed[0]], packed[1:]))
    assert args["Data"].endswith("... (600 characters)") and len(args["Data"]) < 300


def test_the_large_record_makes_a_page_under_10_mb() -> None:
    events = records.large()
    page = timeline.render(events)
    assert data_of(page)["rpc_count"] == len(rpcs(events)) >= 20_000
    assert len(page.encode()) < 10_000_000


@pytest.mark.parametrize("content, expected", [
    ("", "the record is empty"),
    ('{"seq": 0, "t": 0, "kind": "meta"}\nnot json\n', ":2: not JSON"),
    ('[1, 2]\n', ":1: an event is a JSON object, not list"),
    ('{"seq": 0, "kind": "meta"}\n', "event 0 (seq 0): no 't' field"),
    ('{"seq": 0, "t": 0, "kind": "meta"}\n{"seq": 1, "t": 1, "kind": "rpc", "id": 1}\n',
     "event 1 (seq 1): rpc without 'src'"),
    ('{"seq": 0, "t": 0, "kind": "rpc", "id": 1, "src": 0, "dst": "S1", "method": "m",'
     ' "sent": 0, "done": 1, "outcome": "ok"}\n', "rpc 'dst' is 'S1', not a peer"),
])
def test_a_bad_record_is_refused_saying_where(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(RecordError, match=re.escape(expected)):
        timeline.read_record(path)
    assert timeline.main([str(path), "-o", str(tmp_path / "bad.html")]) == 2
    assert not (tmp_path / "bad.html").exists()


def test_the_command_draws_a_saved_record(tmp_path: Path) -> None:
    path = records.write_jsonl(records.failing_reelection(), tmp_path / "run.jsonl")
    result = subprocess.run([sys.executable, "-m", "labtools.timeline", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and (tmp_path / "run.html").is_file()
    assert timeline.main([str(path), "-o", str(tmp_path / "x" / "page.html")]) == 0
    assert (tmp_path / "x" / "page.html").read_bytes() == (tmp_path / "run.html").read_bytes()


def test_the_command_names_a_missing_record(tmp_path: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit) as stop:
        timeline.main([str(tmp_path / "nope.jsonl")])
    assert stop.value.code == 2
    assert "no such record file" in capsys.readouterr().err


def test_events_that_are_not_objects_are_refused() -> None:
    with pytest.raises(RecordError, match=r"event 1: not an object but str"):
        timeline.render([{"seq": 0, "t": 0.0, "kind": "meta"}, "rpc"])
    with pytest.raises(RecordError, match="cannot draw a int"):
        timeline.render(3)


def test_a_live_records_objects_are_shown_by_their_fields() -> None:
    from raft.raft import AppendEntriesArgs, LogEntry

    args = AppendEntriesArgs(Term=2, LeaderId=1, Entries=[LogEntry(2, "x" * 300)] * 20)
    shown = compact(dataclasses.asdict(args) | {"Entries": args.Entries, "Data": b"\0" * 9})
    assert shown["Entries"][0] == {"Term": 2, "Command": "x" * 240 + "... (300 characters)"}
    assert shown["Entries"][-1] == "... 4 more (20 in all)" and len(shown["Entries"]) == 17
    assert shown["Data"] == "<9 bytes>"
    json.dumps(shown)


def test_what_changes_between_processes_stays_off_the_page() -> None:
    class Opaque:
        pass
    assert compact({"ids": {"b", "a", "c"}, "x": Opaque()}) == {
        "ids": ["a", "b", "c"],
        "x": f"<{__name__}.test_what_changes_between_processes_stays_off_the_page.<locals>"
             f".Opaque object>"}


def test_two_processes_draw_the_same_bytes(tmp_path: Path) -> None:
    """As a simulated seed's replay would: another process, another hash seed."""
    record = records.write_jsonl(records.everything(), tmp_path / "run.jsonl")
    pages = []
    for seed in ("1", "2"):
        page = tmp_path / f"run-{seed}.html"
        subprocess.run([sys.executable, "-m", "labtools.timeline", str(record), "-o", str(page)],
                       check=True, capture_output=True, timeout=60,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        pages.append(page.read_bytes())
    assert pages[0] == pages[1]


def test_departures_are_marked_on_the_lane_they_name_and_listed() -> None:
    events = records.failing_reelection()
    last = max(e["seq"] for e in events)
    events += [
        {"seq": last + 1, "t": 0.5, "kind": "departure", "choice": "drop_reply",
         "what": "S2's RequestVote reply to S0 lost", "peer": 0},
        {"seq": last + 2, "t": 0.25, "kind": "departure", "choice": "switch",
         "what": "raft-S1-ticker runs, preempting TestX", "peer": None},
        {"seq": last + 3, "t": 0.75, "kind": "departure", "choice": "late",
         "what": "config-applier wakes 3 ms late", "peer": None},
    ]
    page = timeline.render(events)
    data = data_of(page)
    marked = [(m[0], m[1], m[3]) for m in data["marks"] if m[2] == "departure"]
    assert marked == [(250_000, 1, "raft-S1-ticker runs, preempting TestX"),
                      (500_000, 0, "S2's RequestVote reply to S0 lost"),
                      (750_000, -1, "config-applier wakes 3 ms late")]
    assert data["departures"] == 3
    assert "<b>3 departures</b> from a calm run" in page
    header = page[:page.index('<div id="controls">')]
    assert "S2&#x27;s RequestVote reply to S0 lost</a> at 0.500 s" in header


def test_an_address_in_the_failure_note_does_not_change_the_page() -> None:
    events = records.failing_reelection()
    one = timeline.render(events, note="waits for Lock at 0x7f57ed84de90, held by S1")
    two = timeline.render(events, note="waits for Lock at 0x7f0311ef4950, held by S1")
    assert one == two and "waits for Lock, held by S1" in one
