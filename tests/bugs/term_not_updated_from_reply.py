"""A leader ignores a higher term in an AppendEntries reply."""

PART = "2B"
RULE = "adopt a higher term from a reply"
EDITS = [
    (
        "            if ok and reply.Term > self.currentTerm:\n"
        "                self._become_follower_locked(reply.Term)\n"
        "            elif ok and self.role == LEADER and self.currentTerm == args.Term:\n"
        "                if reply.Success:",
        "            if ok and self.role == LEADER and self.currentTerm == args.Term:\n"
        "                if reply.Success:",
    ),
]
