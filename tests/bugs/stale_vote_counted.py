"""A candidate counts a vote reply from an older term (it never checks the reply's election)."""

PART = "2A"
RULE = "at most one leader per term"
EDITS = [(
    "                self.role == CANDIDATE\n"
    "                and self.currentTerm == args.Term\n"
    "                and reply.VoteGranted\n",
    "                self.role == CANDIDATE\n"
    "                and reply.VoteGranted\n",
)]
