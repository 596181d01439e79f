"""The cluster a seed runs: the harness's Config, with partitions on top.

    cluster = Cluster(cfg)
    cluster.partition([[0, 1], [2, 3, 4]])   peers talk only within their group
    cluster.heal()                           one group of every live peer
    cluster.bridge(half, peer, rest)         half and rest meet only through peer
    cluster.cut_one_way(callers, callees)    callers can no longer call callees
                                             (calls the other way still work,
                                             replies included), until the next
                                             partition or heal
    cluster.crash(i) / cluster.restart(i)    through the harness (crash1/start1):
                                             a restart reads what i persisted
    cluster.set_unreliable(on), cluster.set_reordering(on)
    cluster.live(), cluster.crashed(), cluster.groups(), cluster.leaders(peers)
    cluster.actions                          (virtual time, what was done), in order

The harness cuts a peer off from everyone (disconnect); a partition is any
split, and a cut may go one way only, so the cluster enables and disables
each end itself: the end from i to j works when both peers are up, in one
group, and i is not muted towards j. Each change is added to the
run's record as a harness event ("partition", with its groups), so the
timeline and raft-logview show it beside the harness's own crash and start
events. cfg.connected says which peers are in the largest group: one()
offers commands to those.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from raft.config import Config


class Cluster:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.n = cfg.n
        # The group each live peer is in; a crashed peer has none.
        self._group: List[Optional[int]] = [0] * self.n
        # (i, j): i may not call j, though both are in one group.
        self._muted: Set[Tuple[int, int]] = set()
        self.actions: List[Tuple[float, str]] = []
        self._began = time.monotonic()

    # --- what the nemesis did -------------------------------------------------

    def note(self, text: str, **fields: Any) -> None:
        self.actions.append((time.monotonic() - self._began, text))
        if self.cfg.record is not None and fields:
            self.cfg.record.add("harness", **fields)

    # --- questions ---------------------------------------------------------------

    def live(self) -> List[int]:
        return [i for i in range(self.n) if self._group[i] is not None]

    def crashed(self) -> List[int]:
        return [i for i in range(self.n) if self._group[i] is None]

    def groups(self) -> List[List[int]]:
        """The live peers by group, each group in peer order, groups by first peer."""
        by_group: Dict[int, List[int]] = {}
        for i in range(self.n):
            group = self._group[i]
            if group is not None:
                by_group.setdefault(group, []).append(i)
        return sorted(by_group.values())

    def leaders(self, peers: Sequence[int]) -> List[Tuple[int, int]]:
        """(term, peer) of each live peer in peers that says it leads."""
        found = []
        for i in peers:
            rf = self.cfg.rafts[i]
            if rf is not None:
                term, is_leader = rf.GetState()
                if is_leader:
                    found.append((term, i))
        return found

    def terms(self, peers: Sequence[int]) -> List[int]:
        return [self.cfg.rafts[i].GetState()[0] for i in peers
                if self.cfg.rafts[i] is not None]

    # --- faults ------------------------------------------------------------------

    def partition(self, groups: Sequence[Sequence[int]]) -> None:
        """Put each live peer in its group (a live peer left out is alone)."""
        self._regroup(groups)
        shown = self.groups()
        text = " | ".join(" ".join(f"S{i}" for i in group) for group in shown)
        self.note(f"partition {text}" if len(shown) > 1 else "heal: one network",
                  action="partition", groups=shown)

    def _regroup(self, groups: Sequence[Sequence[int]]) -> None:
        where: Dict[int, int] = {}
        for number, group in enumerate(groups):
            for i in group:
                where[i] = number
        alone = len(groups)
        for i in self.live():
            if i not in where:
                where[i] = alone
                alone += 1
            self._group[i] = where[i]
        self._muted.clear()
        self._apply()

    def heal(self) -> None:
        self.partition([self.live()])

    def cut_one_way(self, callers: Sequence[int], callees: Sequence[int]) -> None:
        """callers may no longer call callees; calls the other way still work."""
        self._muted.update((i, j) for i in callers for j in callees if i != j)
        self._apply()
        if set(callees) <= set(callers):
            text = f"one-way cut: no peer can call {_names(callees)} (they can still call)"
        elif set(callers) <= set(callees):
            text = f"one-way cut: {_names(callers)} cannot call (they can still be called)"
        else:
            text = (f"one-way cut: {_names(callers)} cannot call {_names(callees)} (calls the "
                    "other way still work)")
        self.note(text, action="one-way cut", callers=list(callers), callees=list(callees))

    def bridge(self, half: Sequence[int], bridge: int, rest: Sequence[int]) -> None:
        """One network, but half and rest reach each other only through bridge."""
        self._regroup([self.live()])
        self._muted.update((i, j) for i in half for j in rest)
        self._muted.update((j, i) for i in half for j in rest)
        self._apply()
        self.note(f"bridge: {_names(half)} and {_names(rest)} meet only through S{bridge}",
                  action="bridge", halves=[list(half), list(rest)], bridge=bridge)

    def crash(self, i: int, why: str = "") -> None:
        self._group[i] = None
        self._muted = {(a, b) for a, b in self._muted if i not in (a, b)}
        self.note(f"crash S{i}{why}")
        self.cfg.crash1(i)
        self._apply()

    def restart(self, i: int, group: Optional[int] = None) -> None:
        """Restart peer i from what it persisted, into group (default: the
        largest one)."""
        self.cfg.start1(i)
        groups = self.groups()
        if group is None or group >= len(groups):
            members = max(groups, key=len) if groups else []
        else:
            members = groups[group]
        self._group[i] = self._group[members[0]] if members else 0
        self.note(f"restart S{i}" + (f" (with {_names(members)})" if members else ""))
        self._apply()

    def set_unreliable(self, on: bool) -> None:
        self.note(f"network {'unreliable' if on else 'reliable'}")
        self.cfg.setunreliable(on)

    def set_reordering(self, on: bool) -> None:
        self.note(f"long reordering {'on' if on else 'off'}")
        self.cfg.setlongreordering(on)

    # --- the wiring --------------------------------------------------------------

    def _apply(self) -> None:
        """Enable exactly the ends between two live peers of one group."""
        cfg = self.cfg
        for i in range(self.n):
            names = cfg.endnames[i]
            if names is None:
                continue
            for j in range(self.n):
                joined = self._group[i] is not None and self._group[i] == self._group[j]
                cfg.net.Enable(names[j], joined and (i, j) not in self._muted)
        largest = max(self.groups(), key=len, default=[])
        for i in range(self.n):
            cfg.connected[i] = i in largest


def _names(peers: Sequence[int]) -> str:
    return " ".join(f"S{i}" for i in peers)
