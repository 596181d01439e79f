"""A vote given twice in one term: the voter never looks at votedFor."""

PART = "2A"
RULE = "one vote per term"
EDITS = [(
    "            if self.votedFor not in (NO_VOTE, args.CandidateId):\n                return\n",
    "",
)]
