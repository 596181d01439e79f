"""A restart forgets currentTerm: readPersist drops it."""

PART = "2C"
RULE = "term never goes backwards"
EDITS = [
    (
        "        self.currentTerm, self.votedFor, self.lastIncludedIndex, entries = labgob.lo"
        "ads(data)\n",
        "        _, self.votedFor, self.lastIncludedIndex, entries = labgob.loads(data)\n",
    ),
]
