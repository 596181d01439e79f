"""A candidate ignores a higher term in a RequestVote reply: it keeps its term and campaigns on."""

PART = "2A"
RULE = "adopt a higher term from a reply"
EDITS = [
    (
        "            if reply.Term > self.currentTerm:\n"
        "                self._become_follower_locked(reply.Term)\n"
        "            elif (\n"
        "                self.role == CANDIDATE\n",
        "            if (\n"
        "                self.role == CANDIDATE\n",
    ),
]
