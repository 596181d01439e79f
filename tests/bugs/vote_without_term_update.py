"""A voter grants a vote in a higher term without taking that term."""

PART = "2A"
RULE = "one vote per term"
EDITS = [
    (
        "        with self.mu:\n"
        "            if args.Term > self.currentTerm:\n"
        "                self._become_follower_locked(args.Term)\n"
        "            reply.Term = self.currentTerm\n"
        "            if args.Term < self.currentTerm:\n"
        "                return\n"
        "            if self.votedFor not in",
        "        with self.mu:\n"
        "            reply.Term = self.currentTerm\n"
        "            if args.Term < self.currentTerm:\n"
        "                return\n"
        "            if self.votedFor not in",
    ),
]
