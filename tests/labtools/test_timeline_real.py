"""The timeline of a real run: the Go test TestReElection2A on the solution, recorded.

The page's roles come from the traffic alone; at each of the test's checks,
the peer the tester found leading must be drawn as the leader of the term
it had then, and the page must hold every RPC the network counted.
"""

from __future__ import annotations

import threading
from typing import Any, List, Tuple

import pytest

from labrpc.record import Record
from labtools.timeline import render
from labtools.timeline_model import ROLES
from monitors import recording
from raft import config
from labtest.testing import T
from tests.labtools.test_timeline import data_of


def test_the_leaders_drawn_are_the_leaders_the_tester_found(
        t: T, monkeypatch: pytest.MonkeyPatch) -> None:
    from raft.test_raft import TestReElection2A

    monkeypatch.setenv(recording.RECORD_ENV, "1")
    records: List[Record] = []
    recording.listen(records.append)
    clusters: List[config.Config] = []
    found: List[Tuple[int, int]] = []  # (leader, its term) at each checkOneLeader
    make, check = config.Config.__init__, config.Config.checkOneLeader

    def init(cfg: config.Config, *args: Any, **kwargs: Any) -> None:
        clusters.append(cfg)
        make(cfg, *args, **kwargs)

    def check_and_note(cfg: config.Config) -> int:
        leader = check(cfg)
        found.append((leader, cfg.rafts[leader].GetState()[0]))
        return leader

    monkeypatch.setattr(config.Config, "__init__", init)
    monkeypatch.setattr(config.Config, "checkOneLeader", check_and_note)
    before = set(threading.enumerate())
    try:
        TestReElection2A(t)
    finally:
        recording.unlisten(records.append)
    # A call that cleanup() cut short is recorded when its caller's thread
    # wakes up: wait for the peers' threads to end, as the thread-leak check does.
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)

    (record,) = records
    (cfg,) = clusters
    events = list(record.events)
    data = data_of(render(events))
    checks = [e for e in events if e["kind"] == "harness" and e.get("action") == "check"
              and e.get("name") == "checkOneLeader"]
    assert len(checks) == len(found) == 5   # TestReElection2A checks for one leader 5 times
    for check_event, (leader, term) in zip(checks, found):
        assert check_event["result"] == leader
        at = round(check_event["t"] * 1e6)
        # the band that holds the check's moment (the last check ends the record)
        band = [b for b in data["bands"] if b[0] == leader and b[1] <= at <= b[2]][-1]
        assert (ROLES[band[3]], band[4]) == ("leader", term), (check_event, band)
    # the first leader, cut off, keeps sending in its old term and is drawn so
    first = checks[0]
    cut = [c for c in data["cut"] if c[0] == first["result"]]
    assert cut and cut[0][1] > round(first["t"] * 1e6)
    # every call the network counted is on the page, and nothing else
    rpcs = sum(1 for e in events if e["kind"] == "rpc")
    assert data["rpc_count"] == rpcs == cfg.rpcTotal() > 0
