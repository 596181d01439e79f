"""A follower accepts AppendEntries from a leader of an older term."""

PART = "2A"
RULE = "stale term rejected"
EDITS = [
    (
        "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> N"
        "one:\n"
        "        with self.mu:\n"
        "            reply.Term = self.currentTerm\n"
        "            if args.Term < self.currentTerm:\n"
        "                return\n",
        "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> N"
        "one:\n"
        "        with self.mu:\n"
        "            reply.Term = self.currentTerm\n",
    ),
]
