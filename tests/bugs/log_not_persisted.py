"""persist() saves the log's first entry only."""

PART = "2C"
RULE = "the log is persistent"
EDITS = [
    (
        "        entries = [(entry.Term, entry.Command) for entry in self.log]\n",
        "        entries = [(entry.Term, entry.Command) for entry in self.log[:1]]\n",
    ),
]
