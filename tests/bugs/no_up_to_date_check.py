"""A voter grants its vote without the election restriction (log up to date)."""

PART = "2B"
RULE = "election restriction"
EDITS = [
    (
        "            their_log = (args.LastLogTerm, args.LastLogIndex)\n"
        "            if their_log < (self._last_log_term(), self._last_log_index()):\n"
        '                self._log("vote", "refuse S%d: its log is behind", args.CandidateId)\n'
        "                return\n",
        "",
    ),
]
