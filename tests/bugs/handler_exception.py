"""A misspelt field in the RequestVote handler: every vote request raises AttributeError."""

PART = "2A"
RULE = None  # a crash, not a broken rule: the handler never answers
EDITS = [(
    "            if self.votedFor not in (NO_VOTE, args.CandidateId):\n",
    "            if self.votedFor not in (NO_VOTE, args.CandidateID):\n",
)]
