"""A candidate asks for votes without starting a new term."""

PART = "2A"
RULE = "one vote per term"
EDITS = [
    (
        "    def _become_candidate_locked(self) -> List[Job]:\n"
        "        self.currentTerm += 1\n",
        "    def _become_candidate_locked(self) -> List[Job]:\n",
    ),
]
