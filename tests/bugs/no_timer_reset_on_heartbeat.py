"""A follower does not reset its election timer on AppendEntries."""

PART = "2A"
RULE = None
EDITS = [
    (
        "            self._reset_election_timer_locked()\n"
        "            reply.Term = self.currentTerm\n"
        "\n"
        "            prev, entries = args.PrevLogIndex, args.Entries\n",
        "            reply.Term = self.currentTerm\n"
        "\n"
        "            prev, entries = args.PrevLogIndex, args.Entries\n",
    ),
]
