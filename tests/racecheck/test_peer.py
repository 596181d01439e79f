"""The port's own checks on a peer, the persister and the debug output."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from queue import Queue

import pytest

import labrpc
from raft import Make, MakePersister
from raft.config import make_config
from labtest.testing import T, TestFailure

REPO = Path(__file__).resolve().parents[2]


def peer_threads(me: int) -> list:
    return [th for th in threading.enumerate() if th.name.startswith(f"raft-S{me}-")]


def test_kill_ends_every_thread_of_the_peer_within_one_second() -> None:
    with make_config(T(echo=False), 3, False) as cfg:
        leader = cfg.checkOneLeader()
        victim = (leader + 1) % 3
        assert peer_threads(victim), "a running peer has threads"
        cfg.rafts[victim].Kill()
        assert cfg.rafts[victim].killed()
        deadline = time.monotonic() + 1.0
        while peer_threads(victim):
            assert time.monotonic() < deadline, (
                f"threads of a killed peer still running: {peer_threads(victim)}"
            )
            time.sleep(0.01)


def test_make_returns_at_once_and_checks_its_arguments() -> None:
    with labrpc.MakeNetwork() as net:
        ends = [net.MakeEnd(f"e{i}") for i in range(3)]
        t0 = time.monotonic()
        rf = Make(ends, 0, MakePersister(), Queue())
        assert time.monotonic() - t0 < 0.1
        rf.Kill()
        with pytest.raises(ValueError, match="me=3 is not an index into peers"):
            Make(ends, 3, MakePersister(), Queue())
        with pytest.raises(TypeError, match="persister must be a Persister"):
            Make(ends, 0, b"state", Queue())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="applyCh must be a queue.Queue"):
            Make(ends, 0, MakePersister(), [])  # type: ignore[arg-type]


def test_a_lone_peer_elects_itself() -> None:
    with make_config(T(echo=False), 1, False) as cfg:
        assert cfg.checkOneLeader() == 0


def test_persister_keeps_bytes_and_copies_share_nothing() -> None:
    p = MakePersister()
    p.SaveStateAndSnapshot(b"state", b"snap")
    q = p.Copy()
    p.SaveRaftState(b"newer")
    assert (q.ReadRaftState(), q.ReadSnapshot()) == (b"state", b"snap")
    assert (p.RaftStateSize(), p.SnapshotSize()) == (5, 4)
    with pytest.raises(TypeError, match="raft state must be bytes"):
        p.SaveRaftState("text")  # type: ignore[arg-type]


def test_harness_failure_names_the_go_message() -> None:
    t = T(echo=False)
    with make_config(t, 3, False) as cfg:
        cfg.disconnect(0)
        cfg.disconnect(1)
        cfg.disconnect(2)
        with pytest.raises(TestFailure, match="expected one leader, got none"):
            cfg.checkOneLeader()
    assert t.Failed()


def test_fatal_labrpc_error_on_a_peer_thread_fails_the_test() -> None:
    """Even if the peer's thread swallows the LabrpcError, the test fails."""

    def careless_sender(end: labrpc.ClientEnd) -> None:
        try:
            end.Call("Raft.NoSuchHandler", 1, {})
        except Exception:
            pass

    t = T(echo=False)
    with pytest.raises(TestFailure, match="unknown method 'NoSuchHandler'"):
        with make_config(t, 3, False) as cfg:
            sender = threading.Thread(target=careless_sender, args=(cfg.rafts[0].peers[1],))
            sender.start()
            sender.join()
            cfg.checkOneLeader()


def test_dprintf_lines_show_for_a_failing_test(tmp_path: Path) -> None:
    """RAFT_DEBUG=1: a failing test's report carries the peers' DPrintf lines."""
    test_file = tmp_path / "test_fails.py"
    test_file.write_text(textwrap.dedent("""
        from raft.config import make_config
        from labtest.testing import T

        def test_fails():
            with make_config(T(), 3, False) as cfg:
                cfg.checkOneLeader()
                raise AssertionError("on purpose")
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
        env={**__import__("os").environ, "RAFT_DEBUG": "1"},
    )
    assert result.returncode == 1, result.stdout
    assert "Captured log call" in result.stdout
    assert "LEADER S" in result.stdout and " won the election" in result.stdout
