"""The timeline's roles, read from a real run: the Go test TestReElection2A on the solution.

Until the run's record lands (labrpc/record.py), a stand-in recorder here
makes a record of the same shape from a real run: it wraps ClientEnd.Call
(one rpc event a call, when it returns), the harness's connect and
disconnect, and checkOneLeader (a check event with the leader it found and
that leader's term, from GetState). The page's roles come from the traffic
alone; at each check, the peer the tester found leading must be drawn as
the leader of the term it reported.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

import labrpc
from labtools.timeline import render
from labtools.timeline_model import ROLES
from raft import config
from raft.testing import T
from test_timeline import data_of


class StandInRecorder:
    """Events as the record's contract has them, from wrapped harness and network calls."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []
        self.cfg: Optional[config.Config] = None
        self._lock = threading.Lock()
        self._t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._t0

    def add(self, kind: str, **fields: Any) -> None:
        with self._lock:
            self.events.append({"seq": len(self.events), "t": self.now(), "kind": kind,
                                **fields})

    def peers_of(self, endname: Any) -> Tuple[Optional[int], Optional[int]]:
        cfg = self.cfg
        for i, names in enumerate(cfg.endnames if cfg else []):
            if names and endname in names:
                return i, names.index(endname)
        return None, None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        recorder = self
        make, call = config.Config.__init__, labrpc.ClientEnd.Call
        connect, disconnect = config.Config.connect, config.Config.disconnect
        check = config.Config.checkOneLeader

        def init(cfg: config.Config, t: T, n: int, *args: Any, **kwargs: Any) -> None:
            recorder.cfg = cfg
            recorder.add("meta", test="TestReElection2A", peers=n, format=1)
            make(cfg, t, n, *args, **kwargs)

        def record_call(end: labrpc.ClientEnd, method: str, args: Any, reply: Any) -> bool:
            sent = recorder.now()
            src, dst = recorder.peers_of(end._endname)
            ok = call(end, method, args, reply)
            done = recorder.now()
            cfg = recorder.cfg
            cut = src is not None and dst is not None and not (
                cfg.connected[src] and cfg.connected[dst])
            recorder.add("rpc", id=len(recorder.events), src=src, dst=dst, method=method,
                         args=dataclasses.asdict(args),
                         reply=dataclasses.asdict(reply) if ok else None, bytes=0,
                         sent=sent, handled=(sent + done) / 2 if ok else None, done=done,
                         outcome="ok" if ok else ("disconnected" if cut else "request_dropped"),
                         reordered=False)
            return ok

        def record_connect(cfg: config.Config, i: int) -> None:
            recorder.add("harness", action="connect", peer=i)
            connect(cfg, i)

        def record_disconnect(cfg: config.Config, i: int) -> None:
            recorder.add("harness", action="disconnect", peer=i)
            disconnect(cfg, i)

        def record_check(cfg: config.Config) -> int:
            leader = check(cfg)
            term, _ = cfg.rafts[leader].GetState()
            recorder.add("harness", action="check", name="checkOneLeader", ok=True,
                         result=leader, term=term)
            return leader

        monkeypatch.setattr(config.Config, "__init__", init)
        monkeypatch.setattr(labrpc.ClientEnd, "Call", record_call)
        monkeypatch.setattr(config.Config, "connect", record_connect)
        monkeypatch.setattr(config.Config, "disconnect", record_disconnect)
        monkeypatch.setattr(config.Config, "checkOneLeader", record_check)


def test_the_leaders_drawn_are_the_leaders_the_tester_found(
        t: T, monkeypatch: pytest.MonkeyPatch) -> None:
    from raft.test_raft import TestReElection2A

    recorder = StandInRecorder()
    recorder.install(monkeypatch)
    TestReElection2A(t)
    events = list(recorder.events)
    data = data_of(render(events))

    checks = [e for e in events if e["kind"] == "harness" and e.get("action") == "check"]
    assert len(checks) == 5          # TestReElection2A calls checkOneLeader 5 times
    for check in checks:
        at = round(check["t"] * 1e6)
        # the band that holds the check's moment (the last check ends the record)
        band = [b for b in data["bands"] if b[0] == check["result"] and b[1] <= at <= b[2]][-1]
        assert (ROLES[band[3]], band[4]) == ("leader", check["term"]), (check, band)
    # the first leader, cut off, keeps sending in its old term and is drawn so
    first = checks[0]
    cut = [c for c in data["cut"] if c[0] == first["result"]]
    assert cut and cut[0][1] > round(first["t"] * 1e6)
    assert data["rpc_count"] == sum(1 for e in events if e["kind"] == "rpc") > 0
