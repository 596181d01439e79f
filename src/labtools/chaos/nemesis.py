"""The nemesis: faults drawn from a seeded generator, one after another.

    nemesis = Nemesis(cluster, rng, features, choices=None)
    nemesis.strike()     draw one fault and do it (choices, a labsim ChoiceStream
                         the shrinker edits, may say not to: the fault's
                         draws are then made against a cluster that ignores
                         them, so that later faults are drawn as before)
    nemesis.pause()      let it stand a while
    nemesis.calm_network()   reliable again, no long reordering
    nemesis.hooks        crash hooks on the record (see CrashHooks)

The faults, and the parts that have them (labtools.chaos.parts):
    partition        any split of the live peers into 2 or 3 groups,
                     majority or not (all)
    isolate          one peer cut off from the rest (all)
    bridge           two halves that cannot reach each other but through one
                     peer, which reaches both (all)
    heal             one network again (all)
    one way          one network again, but some calls go one way only
                     (replies included): at random, or so that the peers of
                     the lowest term cannot be called, or the peers of the
                     highest term cannot call; a peer then learns of a newer
                     term from replies alone, and must take it (all)
    unreliable       labrpc drops requests and replies, delays them (all)
    reordering       labrpc's long reordering: replies up to 2.2 s late (all)
    crash            a live peer, or the peer that says it leads (2C on)
    restart          a crashed peer, from what it persisted (2C on)
    crash a majority a majority of the peers at once, then each restarted
                     soon after: what was committed must survive (2C on)
    crash after a vote / an append   the next peer that grants a vote, or
                     accepts new entries, is crashed the moment the reply
                     reaches its caller, and restarted soon after: a peer
                     must have saved what it promised before it answered (2C on)
Long delays (a call on a cut end takes up to 7 s) are on throughout, as in
the Go tests. Snapshots (2D) come from the service itself: the harness's
applierSnap asks each peer for one every 10 entries.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from labtools.chaos.cluster import Cluster
from labtools.chaos.parts import Features

Event = Dict[str, Any]

# How long the nemesis lets each fault stand before the next (seconds):
# mostly briefly, sometimes long enough for a cut-off peer's term to climb.
PAUSE_MIN_S = 0.02
PAUSE_MAX_S = 0.4
LONG_PAUSE_CHANCE = 0.25
LONG_PAUSE_MAX_S = 1.5
# A crash hook waits this long for its vote or append before giving up.
HOOK_WAIT_S = 1.0
HOOK_POLL_S = 0.002
# A peer crashed by a hook comes back after up to this long.
HOOK_RESTART_MAX_S = 0.15

# Relative weights of the faults (those a part lacks are left out).
WEIGHTS = {
    "partition": 3,
    "isolate": 2,
    "bridge": 2,
    "heal": 3,
    "one way": 2,
    "unreliable": 1,
    "reordering": 1,
    "crash": 2,
    "crash leader": 2,
    "restart": 3,
    "crash majority": 1,
    "crash after vote": 2,
    "crash after append": 2,
}
CRASH_FAULTS = ("crash", "crash leader", "restart", "crash majority", "crash after vote",
                "crash after append")


class CrashHooks:
    """Watches the record for the moment to crash a peer.

    A record subscriber runs in the thread that adds the event, under the
    record's lock: it only notes the peer, and the nemesis crashes it.
    """

    def __init__(self) -> None:
        self.armed: Optional[Callable[[Event], Optional[int]]] = None
        self.fired: List[Tuple[int, Event]] = []

    def __call__(self, event: Event) -> None:
        if self.armed is not None and event["kind"] == "rpc":
            peer = self.armed(event)
            if peer is not None:
                self.fired.append((peer, event))
                self.armed = None

    def wait(self, match: Callable[[Event], Optional[int]]) -> Optional[Tuple[int, Event]]:
        """Arm the hook with match; (the peer, the event) it fired for, or None
        after HOOK_WAIT_S."""
        self.fired = []
        self.armed = match
        deadline = time.monotonic() + HOOK_WAIT_S
        while not self.fired and time.monotonic() < deadline:
            time.sleep(HOOK_POLL_S)
        self.armed = None
        return self.fired[0] if self.fired else None


def _granted_vote(event: Event) -> Optional[int]:
    """The voter, if event is a vote granted and its reply delivered."""
    reply = event.get("reply") or {}
    if event.get("method", "").endswith("RequestVote") and event.get("outcome") == "ok" \
            and _field(reply, "votegranted"):
        return event.get("dst")
    return None


def _accepted_entries(event: Event) -> Optional[int]:
    """The follower, if event is an AppendEntries with entries it accepted."""
    reply = event.get("reply") or {}
    if event.get("method", "").endswith("AppendEntries") and event.get("outcome") == "ok" \
            and _field(reply, "success") and _field(event.get("args") or {}, "entries"):
        return event.get("dst")
    return None


def _field(fields: Dict[str, Any], name: str) -> Any:
    """A field by Figure 2's name, whatever its case or underscores."""
    for key, value in fields.items():
        if key.replace("_", "").lower() == name:
            return value
    return None


class _Untouched:
    """A cluster that answers what the nemesis asks and ignores what it does:
    a fault the shrinker leaves out still draws what it would have drawn."""

    QUERIES = ("live", "crashed", "leaders", "terms", "groups", "n")
    CHANGES = ("partition", "heal", "bridge", "cut_one_way", "crash", "restart",
               "set_unreliable", "set_reordering", "note")

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster

    def __getattr__(self, name: str) -> Any:
        if name in self.QUERIES:
            return getattr(self._cluster, name)
        if name in self.CHANGES:
            return lambda *args, **kwargs: None
        # (a new use of the cluster must be sorted into one of the two)
        raise AttributeError(f"a left-out fault used the cluster's {name!r}, which "
                             "_Untouched neither answers nor ignores")


class Nemesis:
    def __init__(self, cluster: Cluster, rng: random.Random, features: Features,
                 choices: Any = None) -> None:
        self.cluster = cluster
        self.rng = rng
        self.choices = choices
        self.strikes = 0
        self.faults: List[Tuple[str, int]] = [
            (name, weight) for name, weight in WEIGHTS.items()
            if features.crashes or name not in CRASH_FAULTS]
        self.unreliable = False
        self.reordering = False
        self.hooks = CrashHooks()
        record = cluster.cfg.record
        if record is not None:
            record.subscribe(self.hooks)

    def calm_network(self) -> None:
        """A reliable network without long reordering, from now on."""
        if self.unreliable:
            self._unreliable()
        if self.reordering:
            self._reordering()

    def pause(self) -> None:
        longest = LONG_PAUSE_MAX_S if self.rng.random() < LONG_PAUSE_CHANCE else PAUSE_MAX_S
        time.sleep(self.rng.uniform(PAUSE_MIN_S, longest))

    def strike(self) -> None:
        """Draw one fault and do it."""
        names = [name for name, _ in self.faults]
        weights = [weight for _, weight in self.faults]
        fault = self.rng.choices(names, weights)[0]
        do = getattr(self, "_" + fault.replace(" ", "_"))
        self.strikes += 1
        if self.choices is None:
            do()
            return
        if not self.choices.action(self.strikes):
            # Drawn, not done: the toggles of the network's modes still flip
            # the state the seed's run had, so a later one kept sets what it set.
            real, self.cluster = self.cluster, _Untouched(self.cluster)
            try:
                do()
            finally:
                self.cluster = real
            return
        before = len(self.cluster.actions)
        began = time.monotonic()
        do()
        done = [text for _, text in self.cluster.actions[before:]]
        if done:  # (a fault that changed nothing is no departure)
            self.choices.acted(self.strikes, "; ".join(done), began)

    # --- the faults ----------------------------------------------------------------

    def _partition(self) -> None:
        live = self.cluster.live()
        count = self.rng.choice((2, 3))
        groups: List[List[int]] = [[] for _ in range(count)]
        for i in live:
            groups[self.rng.randrange(count)].append(i)
        self.cluster.partition([group for group in groups if group])

    def _isolate(self) -> None:
        live = self.cluster.live()
        if live:
            lone = self.rng.choice(live)
            self.cluster.partition([[lone], [i for i in live if i != lone]])

    def _bridge(self) -> None:
        live = self.cluster.live()
        if len(live) < 3:
            return
        bridge = self.rng.choice(live)
        others = [i for i in live if i != bridge]
        half = self.rng.sample(others, self.rng.randint(1, len(others) - 1))
        rest = [i for i in others if i not in half]
        self.cluster.bridge(sorted(half), bridge, rest)

    def _one_way(self) -> None:
        """One network, but some calls go one way only: at random, or so that
        the peers of the lowest term cannot be called (they hear of newer
        terms only in replies), or the peers of the highest term cannot call
        (their older-term callers hear of it only in replies)."""
        live = self.cluster.live()
        if len(live) < 2:
            return
        terms = dict(zip(live, self.cluster.terms(live)))
        lowest = [i for i in live if terms[i] == min(terms.values())]
        highest = [i for i in live if terms[i] == max(terms.values())]
        self.cluster.heal()
        variant = self.rng.randrange(3)
        if variant == 1 and len(lowest) < len(live):
            self.cluster.cut_one_way(live, lowest)
        elif variant == 2 and len(highest) < len(live):
            self.cluster.cut_one_way(highest, live)
        else:
            some = sorted(self.rng.sample(live, self.rng.randint(1, len(live) - 1)))
            others = [i for i in live if i not in some]
            if self.rng.random() < 0.5:
                self.cluster.cut_one_way(some, others)
            else:
                self.cluster.cut_one_way(others, some)

    def _heal(self) -> None:
        self.cluster.heal()

    def _unreliable(self) -> None:
        # Toggled as drawn, set as toggled (see strike: a left-out toggle flips it too).
        self.unreliable = not self.unreliable
        self.cluster.set_unreliable(self.unreliable)

    def _reordering(self) -> None:
        self.reordering = not self.reordering
        self.cluster.set_reordering(self.reordering)

    def _crash(self) -> None:
        live = self.cluster.live()
        if live:
            self.cluster.crash(self.rng.choice(live))

    def _crash_leader(self) -> None:
        leaders = self.cluster.leaders(self.cluster.live())
        if leaders:
            term, leader = max(leaders)
            self.cluster.crash(leader, f" (it leads term {term})")

    def _restart(self) -> None:
        crashed = self.cluster.crashed()
        if crashed:
            self.cluster.restart(self.rng.choice(crashed), self.rng.randrange(3))

    def _crash_majority(self) -> None:
        n = self.cluster.n
        down = self.rng.sample(range(n), self.rng.randint(n // 2 + 1, n))
        for i in down:
            if i in self.cluster.live():
                self.cluster.crash(i)
        for i in down:
            time.sleep(self.rng.uniform(0.0, HOOK_RESTART_MAX_S))
            self.cluster.restart(i, self.rng.randrange(3))

    def _crash_after_vote(self) -> None:
        """Crash the next voter right after its vote; restart it, at times
        among the peers that had not heard of the vote's term (one of them
        may ask it for a vote in that term again)."""
        fired = self._crash_on(_granted_vote, "a vote")
        if fired is None:
            return
        voter, event = fired
        term = _field(event.get("args") or {}, "term")
        live = [i for i in self.cluster.live() if i not in (voter, event.get("src"))]
        behind = [i for i, theirs in zip(live, self.cluster.terms(live))
                  if isinstance(term, int) and theirs < term]
        time.sleep(self.rng.uniform(0.0, HOOK_RESTART_MAX_S))
        if behind and self.rng.random() < 0.5:
            self.cluster.restart(voter)
            self.cluster.partition([[voter, *behind]])
        else:
            self.cluster.restart(voter, self.rng.randrange(3))

    def _crash_after_append(self) -> None:
        fired = self._crash_on(_accepted_entries, "accepting entries")
        if fired is not None:
            time.sleep(self.rng.uniform(0.0, HOOK_RESTART_MAX_S))
            self.cluster.restart(fired[0], self.rng.randrange(3))

    def _crash_on(self, match: Callable[[Event], Optional[int]],
                  what: str) -> Optional[Tuple[int, Event]]:
        fired = self.hooks.wait(match)
        if fired is None or fired[0] not in self.cluster.live():
            return None
        self.cluster.crash(fired[0], f" right after {what}")
        return fired
