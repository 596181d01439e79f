"""A leader that learns of a higher term takes the term but stays leader."""

PART = "2A"
RULE = "election safety"
EDITS = [
    (
        "        if self.role != FOLLOWER:\n"
        "            self.role = FOLLOWER\n",
        "        if self.role == CANDIDATE:\n"
        "            self.role = FOLLOWER\n",
    ),
]
