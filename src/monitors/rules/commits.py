"""The indexes a leader committed during its term, as its sends show them (two rules read it).

    commits = CommitsOfTerms.shared(facts)    -- one for all the rules of a run
    for index, carried in commits.committed(leader, term, leader_commit, event): ...

LeaderCommit is the leader's commitIndex (Figure 2). The lowest a leader
sent in a term is at least its commitIndex when the term began; every
higher one was committed during the term, so by the leaders' rule. A send
that lowers the lowest makes every higher one seen so far committed in the
term; a send of a new value above it makes that one committed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from monitors.rule import Facts
from monitors.traffic import Event


@dataclass(slots=True)
class Carried:
    """The earliest send that carried a LeaderCommit value."""
    sent: float
    event: Event


class CommitsOfTerms:
    """Each (leader, term)'s LeaderCommit values: the lowest, and the earliest send of each."""

    @classmethod
    def shared(cls, facts: Facts) -> "CommitsOfTerms":
        """The run's one CommitsOfTerms: each send is worked out once for the rules that ask."""
        found = facts.get(cls)
        if found is None:
            found = facts[cls] = cls()
        return found

    def __init__(self) -> None:
        self.carried: Dict[Tuple[Any, int], Dict[int, Carried]] = defaultdict(dict)
        self.lowest: Dict[Tuple[Any, int], int] = {}
        self._last: Optional[Event] = None
        self._last_answer: Sequence[Tuple[int, Carried]] = ()

    def committed(self, leader: Any, term: int, commit: int,
                  event: Event) -> Sequence[Tuple[int, Carried]]:
        """The indexes this send shows committed in the term, each with its earliest send."""
        if event is self._last:
            return self._last_answer  # another rule asked about this send already
        self._last = event
        self._last_answer = self._work_out(leader, term, commit, event)
        return self._last_answer

    def _work_out(self, leader: Any, term: int, commit: int,
                  event: Event) -> Sequence[Tuple[int, Carried]]:
        key = (leader, term)
        carried = self.carried[key]
        known = carried.get(commit)
        first = known is None or event["sent"] < known.sent
        if first:
            carried[commit] = Carried(event["sent"], event)
        lowest = self.lowest.get(key)
        if lowest is None or commit < lowest:
            self.lowest[key] = commit
            higher: List[Tuple[int, Carried]] = [
                (index, send) for index, send in carried.items() if index > commit]
            return higher
        if commit > lowest and first:
            return ((commit, carried[commit]),)
        return ()
