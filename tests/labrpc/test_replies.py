"""Replies built as Go builds them (labrpc.replies), and the hint for a shadowed `raft`."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

import pytest

from labrpc import LabrpcError, MakeNetwork, MakeServer, MakeService
from labrpc.replies import ReplyTypeError, new_reply


@dataclass
class Inner:
    Count: int


@dataclass
class RequiredReply:
    """Common Python, impossible in Go: fields with no defaults."""

    Term: int
    VoteGranted: bool
    Name: str
    Entries: List[int]
    Maybe: Optional[int]
    Nested: Inner
    Tagged: List[str] = field(default_factory=lambda: ["kept"])


class NeedsArguments:
    def __init__(self, term: int) -> None:
        self.term = term


class Voter:
    def HandlerVote(self, args: int, reply: RequiredReply) -> None:
        reply.Term = args

    def HandlerRefuse(self, args: int, reply: NeedsArguments) -> None:
        reply.term = args


def test_a_required_field_gets_its_zero_value() -> None:
    reply = new_reply(RequiredReply)
    assert (reply.Term, reply.VoteGranted, reply.Name, reply.Entries, reply.Maybe) == \
        (0, False, "", [], None)
    assert reply.Nested == Inner(0) and reply.Tagged == ["kept"]


def test_a_class_that_still_cannot_be_built_is_named_with_the_fix() -> None:
    with pytest.raises(ReplyTypeError, match=r"class NeedsArguments.*give every field of "
                                             r"NeedsArguments a default"):
        new_reply(NeedsArguments)


def call(method: str, reply: Any) -> Any:
    with MakeNetwork() as net:
        end = net.MakeEnd("client")
        server = MakeServer()
        server.AddService(MakeService(Voter()))
        net.AddServer("server", server)
        net.Connect("client", "server")
        net.Enable("client", True)
        assert end.Call(f"Voter.{method}", 7, reply)
        return reply


def test_a_handler_with_a_required_field_reply_works_through_the_network() -> None:
    reply = call("HandlerVote", RequiredReply(0, True, "x", [1], 3, Inner(1)))
    # The handler's fresh reply was zeroed: the caller's values were replaced.
    assert (reply.Term, reply.VoteGranted, reply.Name, reply.Entries) == (7, False, "", [])


def test_a_reply_class_that_cannot_be_built_fails_the_call_saying_so() -> None:
    with pytest.raises(LabrpcError, match=r"Voter.HandlerRefuse: .*cannot build a reply of class "
                                          r"NeedsArguments.*`Term: int = 0`"):
        call("HandlerRefuse", NeedsArguments(1))


STUDENT_RAFT = "import labrpc\nfrom raft.persister import Persister\n"


@pytest.mark.parametrize("module", ["raft.grade", "raft"])
def test_python_m_in_a_folder_with_raft_py_says_what_to_run(tmp_path: Path,
                                                            module: str) -> None:
    (tmp_path / "raft.py").write_text(STUDENT_RAFT)
    done = subprocess.run([sys.executable, "-m", module], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "found the raft.py in this folder" in done.stderr and "raft-demo" in done.stderr


def test_no_hint_where_nothing_is_shadowed(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "labtools.demo", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
