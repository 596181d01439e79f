"""labgob's tests: the Go lab's three, plus the Python twins of its traps."""

from __future__ import annotations

import enum
import io
import os
import pickle
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List

import pytest

import labgob


@dataclass
class T1:
    T1int0: int = 0
    T1int1: int = 0
    T1string0: str = ""
    T1string1: str = ""


@dataclass
class T2:
    T2slice: List[T1] = field(default_factory=list)
    T2map: Dict[int, T1] = field(default_factory=dict)
    T2t3: Any = None


@dataclass
class T3:
    T3int999: int = 0


def TestGOB() -> None:
    """What goes in comes out, nested values and all."""
    e0 = labgob.errorCount()
    w = io.BytesIO()
    labgob.Register(T3())

    x0 = 0
    x1 = 1
    t1 = T1(T1int1=1, T1string1="6.824")
    t2 = T2(T2slice=[T1(), t1], T2map={99: T1(1, 2, "x", "y")}, T2t3=T3(999))
    e = labgob.NewEncoder(w)
    e.Encode(x0)
    e.Encode(x1)
    e.Encode(t1)
    e.Encode(t2)

    d = labgob.NewDecoder(io.BytesIO(w.getvalue()))
    x0, x1, t1, t2 = d.Decode(), d.Decode(), d.Decode(), d.Decode()

    assert x0 == 0
    assert x1 == 1
    assert t1.T1int0 == 0
    assert t1.T1int1 == 1
    assert t1.T1string0 == ""
    assert t1.T1string1 == "6.824"
    assert len(t2.T2slice) == 2
    assert t2.T2slice[1].T1int1 == 1
    assert len(t2.T2map) == 1
    assert t2.T2map[99].T1string1 == "y"
    assert isinstance(t2.T2t3, T3) and t2.T2t3.T3int999 == 999
    assert labgob.errorCount() == e0, "there were errors, but should not have been"


@dataclass
class T4:
    Yes: int = 0
    mu: Any = None


def TestCapital() -> None:
    """Go warns about lower-case fields, which gob silently drops. Python drops
    nothing; what it cannot send is live state, so that is an error naming
    the class and where it sits."""
    value = [{"key": T4(Yes=1, mu=threading.Lock())}]
    with pytest.raises(labgob.EncodeError) as caught:
        labgob.dumps(value, root_name="args")
    message = str(caught.value)
    assert "_thread.lock" in message
    assert "args[0]['key'].mu" in message


@dataclass
class DD:
    X: int = 0


def TestDefault() -> None:
    """Decoding into a reply that already holds non-default values warns."""
    e0 = labgob.errorCount()
    data = labgob.dumps(DD())  # send a default value...
    reply = DD(99)  # ...into memory that already holds a non-default one
    with pytest.warns(labgob.LabgobWarning, match=r"DD\.X"):
        labgob.decode_into(reply, data)
    assert labgob.errorCount() == e0 + 1, "failed to warn about decoding into non-default value"
    assert reply.X == 0


@dataclass
class Holder:
    value: Any = None


def _a_function() -> None:
    pass


class _Color(enum.Enum):
    RED = 1


@pytest.mark.parametrize(
    "live, kind",
    [
        (threading.Lock(), "lock"),
        (threading.RLock(), "lock"),
        (threading.Condition(), "condition"),
        (threading.Thread(target=print), "thread"),
        (queue.Queue(), "queue"),
        (_a_function, "function"),
        (lambda: None, "function"),
        (print, "function"),
        (T3, "class"),
        (os, "module"),
    ],
)
def test_live_state_is_an_error_naming_class_and_path(live: Any, kind: str) -> None:
    with pytest.raises(labgob.EncodeError) as caught:
        labgob.dumps(Holder(value=[1, live]), root_name="reply")
    assert "reply.value[1]" in str(caught.value)
    assert kind in str(caught.value)


def test_open_file_is_an_error(tmp_path: Any) -> None:
    with open(tmp_path / "f", "w") as handle:
        with pytest.raises(labgob.EncodeError, match=r"TextIOWrapper at args\.value"):
            labgob.dumps(Holder(value=handle), root_name="args")


def test_class_with_custom_pickling_needs_register() -> None:
    with pytest.raises(labgob.EncodeError, match="Register"):
        labgob.dumps(_Color.RED)
    labgob.Register(_Color.RED)
    assert labgob.loads(labgob.dumps(_Color.RED)) is _Color.RED


def test_decoded_value_shares_nothing_with_the_original() -> None:
    original = T2(T2slice=[T1(T1int0=1)])
    copy = labgob.loads(labgob.dumps(original))
    copy.T2slice[0].T1int0 = 2
    assert original.T2slice[0].T1int0 == 1


def test_decode_into_a_different_type_is_an_error() -> None:
    with pytest.raises(labgob.DecodeError, match="cannot decode a T3 into a DD"):
        labgob.decode_into(DD(), labgob.dumps(T3()))


class _Exploit:
    """Pickles as a call to os.system, the classic pickle attack."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.path}",))


def test_malicious_pickle_runs_nothing(tmp_path: Any) -> None:
    marker = tmp_path / "pwned"
    crafted = pickle.dumps(_Exploit(str(marker)))
    with pytest.raises(labgob.DecodeError, match=r"refusing to decode (posix|os)\.system"):
        labgob.loads(crafted)
    assert not marker.exists()

    # The same by hand: GLOBAL builtins.eval, then a call.
    hand_made = b"cbuiltins\neval\n(S'open(" + repr(str(marker)).encode() + b", \"w\")'\ntR."
    with pytest.raises(labgob.DecodeError, match=r"refusing to decode builtins\.eval"):
        labgob.loads(hand_made)
    assert not marker.exists()


def test_unregistered_class_is_refused_by_name() -> None:
    @dataclass
    class Local:
        x: int = 0

    # A class defined in a function cannot be found by any decoder.
    with pytest.raises(labgob.EncodeError, match="inside a function"):
        labgob.dumps(Local())
    with pytest.raises(labgob.DecodeError, match=r"refusing to decode collections\.OrderedDict"):
        labgob.loads(pickle.dumps(__import__("collections").OrderedDict(a=1)))


def test_loads_rejects_non_bytes() -> None:
    with pytest.raises(TypeError, match="expected bytes, got str"):
        labgob.loads("not bytes")  # type: ignore[arg-type]


class _CountingList(list):
    """A list subclass with its own pickling, as the race checker's lists have."""

    def __reduce_ex__(self, protocol: int) -> Any:
        return list, (list(self),)


def test_a_list_subclass_can_be_encoded_as_a_plain_list() -> None:
    with pytest.raises(labgob.EncodeError, match="its own pickling code"):
        labgob.dumps(_CountingList([1]))
    labgob.encode_as_plain(_CountingList, list)
    decoded = labgob.loads(labgob.dumps({"log": _CountingList([1, (2, "x")])}))
    assert decoded == {"log": [1, (2, "x")]} and type(decoded["log"]) is list
    with pytest.raises(labgob.EncodeError, match="a class is code"):
        labgob.dumps(list)  # the base class itself is still no data
    with pytest.raises(TypeError, match="not a subclass of list or dict"):
        labgob.encode_as_plain(_CountingList, dict)
