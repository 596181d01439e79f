"""The assignment: a leader sends heartbeats no more than ten times a second.

Counted per (leader, follower, term) over a window of HEARTBEAT_WINDOW_S,
with one more allowed for the window's edge, among idle AppendEntries
only: no entries, the same LeaderCommit, and each answered with Success.
Any other one (entries, a new commit index, a lost or rejected call) ends
a run of idle ones, so what replication and commits need is always allowed.
"""

from __future__ import annotations

import bisect
import operator
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

from monitors.rule import APPEND_ENTRIES, Facts, Rule, peer_name, seconds
from monitors.traffic import Call, Event

HEARTBEATS_PER_S = 10
HEARTBEAT_WINDOW_S = 2.0
HEARTBEATS_ALLOWED = int(HEARTBEATS_PER_S * HEARTBEAT_WINDOW_S) + 1


@dataclass(slots=True)
class Beat:
    """An idle AppendEntries (kept sorted by send time, then call id: BEAT_ORDER)."""
    sent: float
    id: int
    event: Event
    commit: Any     # its LeaderCommit


BEAT_ORDER = operator.attrgetter("sent", "id")
SENT = operator.attrgetter("sent")


class HeartbeatRate(Rule):
    name = "heartbeat rate"
    source = ("the assignment: the tester requires that the leader send heartbeat "
              "RPCs no more than ten times per second")
    reads = (APPEND_ENTRIES,)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        self.beats: Dict[Tuple[Any, Any, int], List[Beat]] = defaultdict(list)
        # the send times of the AppendEntries that were not idle
        self.breaks: Dict[Tuple[Any, Any, int], List[float]] = defaultdict(list)

    def on_call(self, call: Call) -> None:
        """Events come in the order calls returned: both lists are kept sorted by send time."""
        log = call.log
        if log is None:
            return  # commit needs a majority says why, once
        key = (call.src, call.dst, call.term)
        sent = call.sent
        reply = call.reply
        if log.entries or reply is None or not reply.get("success") or call.outcome != "ok":
            breaks = self.breaks[key]
            bisect.insort(breaks, sent)
            # An idle AppendEntries comes back within 2.2 s of its send, and
            # looks a window back: older breaks can no longer matter.
            while breaks[0] < breaks[-1] - 2 * HEARTBEAT_WINDOW_S - 1.0:
                breaks.pop(0)
            return
        beats = self.beats[key]
        beat = Beat(sent, call.event["id"], call.event, log.leader_commit)
        bisect.insort(beats, beat, key=BEAT_ORDER)
        horizon = beats[-1].sent - 2 * HEARTBEAT_WINDOW_S
        while beats[0].sent < horizon:
            beats.pop(0)
        # The beats within a window of the new one, cut into runs.
        low = bisect.bisect_left(beats, sent - HEARTBEAT_WINDOW_S, key=SENT)
        high = bisect.bisect_right(beats, sent + HEARTBEAT_WINDOW_S, key=SENT)
        breaks = self.breaks.get(key, [])
        run: List[Beat] = []
        for beat in beats[low:high]:
            if run and (beat.commit != run[-1].commit
                        or _between(breaks, run[-1].sent, beat.sent)):
                run = []
            run.append(beat)
            while beat.sent - run[0].sent >= HEARTBEAT_WINDOW_S:
                run.pop(0)
            if len(run) > HEARTBEATS_ALLOWED:
                self._too_many(key, run)

    def _too_many(self, key: Tuple[Any, Any, int], run: List[Beat]) -> None:
        leader, follower, term = key
        first, last = run[0], run[-1]
        raise self.broken(
            f"{peer_name(leader)} sent idle {peer_name(follower)} {len(run)} AppendEntries "
            f"in {last.sent - first.sent:.2f} s (t={seconds(first.sent)} to "
            f"t={seconds(last.sent)}) in term {term}: none carried entries or a new "
            f"LeaderCommit, and each earlier one was answered with success; at most "
            f"{HEARTBEATS_PER_S} a second are allowed",
            [leader, follower], term, [first.event, last.event])


def _between(times: List[float], low: float, high: float) -> bool:
    """Whether a sorted list holds a time strictly between low and high."""
    at = bisect.bisect_right(times, low)
    return at < len(times) and times[at] < high
