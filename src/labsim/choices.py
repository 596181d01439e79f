"""A run's choices as one stream that can be watched and edited (the shrinker's).

Beyond what its code decides, a simulated run is made of choices: which
thread runs next, how late a wake-up or a timer comes, and the network's
faults (labrpc: how long a call to an unreachable server waits, how long a
request is held, whether a request or reply is lost, how late a reply
comes), and the actions of a driver that runs the run from outside its
threads (raft-chaos's nemesis: its faults). With a ChoiceStream, every one
of them passes through it:

    stream = ChoiceStream()                     the seed's run as drawn; notes
                                                every departure
    stream = ChoiceStream(keep={key: value})    a calm run but for these
                                                departures (the shrinker's tries)
    sim = Simulation(seed, ..., choices=stream)
    with stream.faults():                       labrpc's faults go through it too
        ...
    stream.departures                           [Departure], in the order made
    stream.choices                              how many choices the run made
    stream.note_in(record)                      add a "departure" event to record
                                                at each departure (the timeline)

Every choice is drawn from the run's generators as it would be without a
stream (the strategy's for the scheduler and the clock, the global random for
the network), and only then kept or replaced: a run with a stream that keeps
what is drawn is the seed's run, and an edited run draws the same numbers as
long as its path is the seed's. So the tests' own random choices and the
election timeouts stay as drawn.

The calm choice, and a departure (any other choice):
    switch   at a synchronisation point the running thread goes on; at a
             sleep(0) it yields to the thread runnable longest
    pick     when the running thread waits or ends, the thread runnable
             longest runs (a run queue)
    late     a woken thread runs at once
    timer    a sleeper's deadline comes on time
    timeout  a call to an unreachable server fails at once
    delay    an unreliable network holds a request 0 ms
    drop_request, drop_reply    no request or reply is lost
    reorder  no reply comes late
    action   a driver's action is not taken (action(n): the driver still
             draws what the action would have drawn, so that its later
             actions are drawn as before)
So the calm run has no preemption beyond what waiting forces, no late
wake-up, no lost, held or late message, and no driver's action.

A departure's key names the choice the way least likely to move when other
choices change: a thread's choices by the thread (its name, and which of the
run's threads of that name it is), how many waits it had begun and how many
synchronisation points it had passed since the last (a loop that sleeps
meets its n-th sleep at about the same time whatever the other threads do);
a network fault by the call's src, dst and method and which such call it
is; a driver's action by its number. A kept departure whose key is not
met, or whose thread is not runnable then, is not made (the calm choice is).
"""

from __future__ import annotations

import _thread
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

Key = Tuple[Any, ...]

THREAD_KINDS = ("switch", "pick", "late", "timer")
CALL_KINDS = ("timeout", "delay", "drop_request", "drop_reply", "reorder")
ACTION = "action"
KINDS = THREAD_KINDS + CALL_KINDS + (ACTION,)
# A thread named by threading's default ("Thread-12 (target)") is numbered by
# a counter of the whole process, which the runs before this one moved on.
_DEFAULT_NAME = re.compile(r"^Thread-\d+")


@dataclass(frozen=True)
class Departure:
    """One choice that was not the calm one."""

    key: Key
    value: Any
    at: float                     # virtual seconds since the run began
    what: str                     # in words
    peer: Any = None              # the rpc's src, for the timeline's lane

    @property
    def kind(self) -> str:
        return self.key[0]

    def to_json(self) -> Dict[str, Any]:
        return {"key": list(self.key), "value": _to_json(self.value), "at": round(self.at, 6),
                "what": self.what}


def _to_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def key_from_json(key: Any) -> Key:
    """A key read back from JSON (lists for tuples), checked against its kind's shape:
    [kind, thread name, its number, waits, points], [kind, src, dst, method, number]
    or ["action", number]."""
    if isinstance(key, list) and len(key) == 2 and key[0] == ACTION and _is_int(key[1]):
        return tuple(key)
    if not isinstance(key, list) or len(key) != 5 or key[0] not in THREAD_KINDS + CALL_KINDS:
        raise ValueError(f"not a choice key: {key!r}")
    if key[0] in THREAD_KINDS:
        well_made = isinstance(key[1], str) and all(_is_int(part) for part in key[2:])
    else:
        well_made = isinstance(key[3], str) and _is_int(key[4])
    if not well_made:
        raise ValueError(f"not a choice key: {key!r}")
    return tuple(_hashable(part) for part in key)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(part) for part in value)
    if isinstance(value, dict):
        raise ValueError(f"not a choice key's part: {value!r}")
    return value


def value_from_json(key: Key, value: Any) -> Any:
    """A departure's value read back from JSON, checked against its kind."""
    kind = key[0]
    if kind in ("switch", "pick"):
        if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], str)
                or not _is_int(value[1])):
            raise ValueError(f"a {kind} names a thread as [name, number], not {value!r}")
        return tuple(value)
    if kind in ("drop_request", "drop_reply", ACTION):
        if value is not True:
            raise ValueError(f"{'an action' if kind == ACTION else 'a drop'}'s value is "
                             f"true, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"a {kind}'s value is a positive number, not {value!r}")
    return value


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"


def _peer(name: Any) -> str:
    return f"S{name}" if isinstance(name, int) and not isinstance(name, bool) else str(name)


class ChoiceStream:
    """The choices of one simulated run; see the module docstring."""

    def __init__(self, keep: Optional[Dict[Key, Any]] = None) -> None:
        # None: keep what is drawn. A dict: the departures to make; calm elsewhere.
        self.keep = keep
        self.departures: List[Departure] = []
        self.choices = 0
        self._sim: Any = None
        self._records: List[Any] = []
        self._names: Dict[str, int] = {}
        self._identity: List[Tuple[str, int]] = []     # by thread order
        self._by_identity: Dict[Tuple[str, int], Any] = {}
        # The kept departures of each thread (by order): kind -> {moment: value}.
        self._kept_by_thread: Dict[int, Dict[str, Dict[Tuple[int, int], Any]]] = {}
        self._kept_by_identity: Dict[Tuple[str, int], Dict[str, Dict[Tuple[int, int], Any]]] = {}
        self._calls: Dict[Key, int] = {}
        self._late_reply: Dict[int, Key] = {}          # calling OS thread -> its reorder key
        if keep:
            for key, value in keep.items():
                if key[0] in THREAD_KINDS:
                    kind, name, number, waits, steps = key
                    per_kind = self._kept_by_identity.setdefault((name, number), {})
                    per_kind.setdefault(kind, {})[waits, steps] = value

    # --- the run ----------------------------------------------------------------

    def begin(self, sim: Any) -> None:
        """Called by the Simulation that uses this stream."""
        self._sim = sim

    def note_in(self, record: Any) -> None:
        """Add a "departure" event to record (record.add_note) at each later departure."""
        self._records.append(record)

    @contextmanager
    def faults(self) -> Iterator[None]:
        """labrpc's faults go through this stream while inside."""
        from labrpc import faults
        previous = faults.source
        faults.use(_StreamFaults(self, previous))
        try:
            yield
        finally:
            faults.use(previous)

    def spawned(self, rec: Any) -> None:
        name = _DEFAULT_NAME.sub("Thread", rec.name)
        number = self._names.get(name, 0) + 1
        self._names[name] = number
        identity = (name, number)
        self._identity.append(identity)
        self._by_identity[identity] = rec
        kept = self._kept_by_identity.get(identity)
        if kept is not None:
            self._kept_by_thread[rec.order] = kept

    def identity(self, rec: Any) -> Tuple[str, int]:
        return self._identity[rec.order]

    def shown(self, rec: Any) -> str:
        """The thread's name, with which of its name it is after the first (raft-S0-rpc#7)."""
        name, number = self._identity[rec.order]
        return name if number == 1 else f"{name}#{number}"

    def _depart(self, key: Key, value: Any, what: str, peer: Any = None,
                at: Optional[float] = None) -> None:
        if self._sim is None:
            at = 0.0
        elif at is None:
            at = self._sim.clock.elapsed
        else:
            at = self._sim.clock.elapsed - (self._sim.clock.monotonic() - at)
        departure = Departure(key, value, at, what, peer)
        self.departures.append(departure)
        for record in self._records:
            record.add_note("departure", choice=key[0], what=what, peer=peer)

    def _kept(self, rec: Any, kind: str) -> Optional[Dict[Tuple[int, int], Any]]:
        kept = self._kept_by_thread.get(rec.order)
        return None if kept is None else kept.get(kind)

    # --- the scheduler's choices --------------------------------------------------

    def switch(self, me: Any, natural: Any, runnable: List[Any], what: Any) -> Any:
        """At a synchronisation point of me (which could go on): who runs next."""
        if self._sim.stopping:
            return me   # (the test is over: nothing is chosen any more)
        self.choices += 1
        if what == "sleep(0)":
            calm = _longest_runnable(runnable, me)
        else:
            calm = me
        chosen = self._thread_choice("switch", me, natural, calm, runnable)
        if chosen is not me:
            me.ready_at = self._sim.steps  # (a preempted thread joins the queue's end)
        if chosen is not calm:
            self._depart(("switch", *self.identity(me), *_moment(me)), self.identity(chosen),
                         f"{self.shown(chosen)} runs, preempting {self.shown(me)}"
                         if chosen is not me else f"{self.shown(me)} goes on past its sleep(0)")
        return chosen

    def pick(self, me: Any, natural: Any, runnable: List[Any]) -> Any:
        """me has stopped (it waits or has ended): who runs next."""
        if len(runnable) < 2 or me is None:
            return natural
        calm = _longest_runnable(runnable)
        if self._sim.stopping:
            return calm
        self.choices += 1
        chosen = self._thread_choice("pick", me, natural, calm, runnable)
        if chosen is not calm:
            self._depart(("pick", *self.identity(me), *_moment(me)), self.identity(chosen),
                         f"{self.shown(chosen)} runs before {self.shown(calm)} after "
                         f"{self.shown(me)} stops")
        return chosen

    def _thread_choice(self, kind: str, me: Any, natural: Any, calm: Any,
                       runnable: List[Any]) -> Any:
        if self.keep is None:
            return natural
        kept = self._kept(me, kind)
        if kept is None:
            return calm
        wanted = kept.get(_moment(me))
        if wanted is None:
            return calm
        rec = self._by_identity.get(wanted)
        return rec if rec is not None and rec.runnable and rec in runnable else calm

    def late(self, rec: Any, natural: float) -> float:
        """A thread woken by another: how much later than now it runs."""
        return self._lateness("late", rec, natural, "wakes {} late")

    def timer(self, me: Any, natural: float) -> float:
        """A sleeper's deadline: how much later than asked it comes."""
        return self._lateness("timer", me, natural, "'s timer comes {} late")

    def _lateness(self, kind: str, rec: Any, natural: float, text: str) -> float:
        if self._sim.stopping:
            return 0.0
        self.choices += 1
        if self.keep is None:
            late = natural
        else:
            kept = self._kept(rec, kind)
            late = kept.get(_moment(rec), 0.0) if kept is not None else 0.0
        if late:
            gap = "" if text.startswith("'") else " "
            self._depart((kind, *self.identity(rec), *_moment(rec)), late,
                         f"{self.shown(rec)}{gap}{text.format(_ms(late))}")
        return late

    # --- the network's choices (through _StreamFaults) ------------------------------

    def fault(self, kind: str, call: Any, natural: Any, calm: Any, what: str) -> Any:
        """One of labrpc's faults for call (a labrpc.faults.CallPath)."""
        self.choices += 1
        base = (kind, call.src, call.dst, call.method)
        number = self._calls.get(base, 0) + 1
        self._calls[base] = number
        key = (*base, number)
        value = natural if self.keep is None else self.keep.get(key, calm)
        if kind == "reorder":
            # Decided now, made (and described) when labrpc asks how late.
            if value is not calm:
                self._late_reply[_thread.get_ident()] = key
            return value is not calm
        if value != calm:
            self._depart(key, value, what.format(value), call.src)
        return value

    # --- a driver's actions --------------------------------------------------------

    def action(self, number: int) -> bool:
        """Whether the driver takes its action number (the calm run takes none);
        a taken one is a departure once the driver says what it did (acted)."""
        self.choices += 1
        return self.keep is None or (ACTION, number) in self.keep

    def acted(self, number: int, what: str, began: Optional[float] = None) -> None:
        """The driver took its action number, as what says (began: when it
        began, a time.monotonic() of the run, if not now)."""
        self._depart((ACTION, number), True, what, at=began)

    def reorder_ms(self, call: Any, natural: int) -> int:
        key = self._late_reply.pop(_thread.get_ident(), None)
        if key is None:     # (not asked through reordered(): keep what was drawn)
            return natural
        late_ms = natural if self.keep is None else self.keep[key]
        self._depart(key, late_ms, f"{_peer(call.dst)}'s {_method(call)} reply to "
                                   f"{_peer(call.src)} comes {late_ms} ms late", call.src)
        return late_ms


def _moment(rec: Any) -> Tuple[int, int]:
    """When in its life a thread makes a choice: the waits it has begun and
    the points since the last (-1: it has ended)."""
    return rec.waits, -1 if rec.done else rec.awake_steps


def _method(call: Any) -> str:
    return str(call.method).rsplit(".", 1)[-1]


def _longest_runnable(runnable: List[Any], but: Any = None) -> Any:
    best = None
    for rec in runnable:
        if rec is not but and (best is None or rec.ready_at < best.ready_at):
            best = rec
    return best


class _StreamFaults:
    """labrpc's fault source while a stream watches: draws as the source it
    replaces (for the same numbers), then lets the stream keep or replace."""

    def __init__(self, stream: ChoiceStream, drawn: Any) -> None:
        self.stream = stream
        self.drawn = drawn

    def timeout_ms(self, call: Any, limit: int) -> int:
        natural = self.drawn.timeout_ms(call, limit)
        return self.stream.fault(
            "timeout", call, natural, 0,
            f"{_peer(call.src)}'s {_method(call)} to {_peer(call.dst)} (unreachable) "
            "fails after {} ms")

    def delay_ms(self, call: Any, limit: int) -> int:
        natural = self.drawn.delay_ms(call, limit)
        return self.stream.fault(
            "delay", call, natural, 0,
            f"{_peer(call.src)}'s {_method(call)} to {_peer(call.dst)} held {{}} ms")

    def dropped(self, call: Any, which: str, per_mille: int) -> bool:
        natural = self.drawn.dropped(call, which, per_mille)
        if which == "request":
            what = f"{_peer(call.src)}'s {_method(call)} to {_peer(call.dst)} lost"
        else:
            what = f"{_peer(call.dst)}'s {_method(call)} reply to {_peer(call.src)} lost"
        return self.stream.fault(f"drop_{which}", call, natural, False, what)

    def reordered(self, call: Any, per_900: int) -> bool:
        natural = self.drawn.reordered(call, per_900)
        return self.stream.fault("reorder", call, natural, False, "")

    def reorder_ms(self, call: Any, minimum: int, spread: int) -> int:
        return self.stream.reorder_ms(call, self.drawn.reorder_ms(call, minimum, spread))
