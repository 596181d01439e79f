"""votedFor is not cleared when a new term begins."""

PART = "2A"
RULE = None
EDITS = [
    (
        "            self.currentTerm = term\n"
        "            self.votedFor = NO_VOTE\n",
        "            self.currentTerm = term\n",
    ),
]
