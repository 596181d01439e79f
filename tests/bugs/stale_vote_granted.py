"""A voter grants its vote to a candidate of an older term."""

PART = "2A"
RULE = "stale term rejected"
EDITS = [
    (
        "            reply.Term = self.currentTerm\n"
        "            if args.Term < self.currentTerm:\n"
        "                return\n"
        "            if self.votedFor not in",
        "            reply.Term = self.currentTerm\n"
        "            if self.votedFor not in",
    ),
]
