"""A leader commits by counting replicas only entries of its own term (Figure 8).

An index a leader committed during its term (rules.commits) must hold an
entry of that term. Which term each index holds is what the leader's own
sends show: Entries' terms, PrevLogTerm, an InstallSnapshot's
LastIncludedTerm (a leader's log only grows during its term, so the first
send that shows an index shows its entry). A committed index whose term no
send has shown yet is checked when one does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple

from monitors.rule import APPEND_ENTRIES, INSTALL_SNAPSHOT, Facts, Rule, peer_name, seconds
from monitors.rules.commits import CommitsOfTerms
from monitors.traffic import Call, Event, fields


@dataclass(slots=True)
class EntryTerm:
    """The term of the entry at an index of a leader's log, and the send that showed it."""
    term: Any
    event: Event


class CommitOnlyCurrentTermEntries(Rule):
    name = "commit only current-term entries"
    source = "Figure 2, Rules for Servers, Leaders: log[N].term == currentTerm (Figure 8)"
    reads = (APPEND_ENTRIES, INSTALL_SNAPSHOT)

    def __init__(self, peers: int, note: Callable[[str], None], facts: Facts) -> None:
        super().__init__(peers, note, facts)
        # (leader, term) -> index -> its entry's term
        self.log_terms: Dict[Tuple[Any, int], Dict[int, EntryTerm]] = defaultdict(dict)
        # (leader, term) -> committed index -> the send that committed it
        self.unknown: Dict[Tuple[Any, int], Dict[int, Event]] = defaultdict(dict)
        self.commits = CommitsOfTerms.shared(facts)

    def on_call(self, call: Call) -> None:
        key = (call.src, call.term)
        if call.method == APPEND_ENTRIES:
            log = call.log
            if log is None:
                return  # commit needs a majority says why, once
            terms = self.log_terms[key]
            if log.prev_index not in terms:
                terms[log.prev_index] = EntryTerm(log.prev_term, call.event)
            for index, entry in enumerate(log.entries, start=log.prev_index + 1):
                if index in terms:
                    continue  # known from an earlier send: the same entry
                entry_term = fields(entry).get("term")
                if entry_term is None:
                    self.cannot("log entries have no Term")
                    break
                terms[index] = EntryTerm(entry_term, call.event)
            self._recheck(key)
            committed = self.commits.committed(call.src, call.term, log.leader_commit, call.event)
            for index, carried in committed:
                self._check(key, index, carried.event)
        else:
            index = call.args.get("lastincludedindex")
            if index is None:
                return
            last_term = call.args.get("lastincludedterm")
            if last_term is not None:
                self.log_terms[key].setdefault(index, EntryTerm(last_term, call.event))
            self._recheck(key)

    def _check(self, key: Tuple[Any, int], index: int, event: Event) -> None:
        leader, term = key
        known = self.log_terms[key].get(index)
        if known is None:
            self.unknown[key][index] = event
            return
        self.unknown[key].pop(index, None)
        if known.term != term:
            raise self.broken(
                f"{peer_name(leader)}, leader in term {term}, committed index {index} "
                f"(LeaderCommit at t={seconds(event['sent'])}), an entry of term {known.term}, "
                f"with no entry of term {term} committed above it (Figure 8)",
                [leader], term, [event, known.event])

    def _recheck(self, key: Tuple[Any, int]) -> None:
        unknown = self.unknown.get(key)
        if unknown:
            for index, event in list(unknown.items()):
                if index in self.log_terms[key]:
                    self._check(key, index, event)
