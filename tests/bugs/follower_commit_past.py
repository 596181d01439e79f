"""A follower takes LeaderCommit (up to its own log's end) before it checks that its log matches."""

PART = "2B"
RULE = "follower commit bound"
EDITS = [
    (
        "            reply.Term = self.currentTerm\n"
        "\n"
        "            prev, entries = args.PrevLogIndex, args.Entries\n",
        "            reply.Term = self.currentTerm\n"
        "            if args.LeaderCommit > self.commitIndex:\n"
        "                self._set_commit_index_locked(min(args.LeaderCommit, "
        "self._last_log_index()))\n"
        "\n"
        "            prev, entries = args.PrevLogIndex, args.Entries\n",
    ),
]
