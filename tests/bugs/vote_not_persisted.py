"""A restart forgets votedFor: readPersist drops it."""

PART = "2C"
RULE = "one vote per term"
EDITS = [
    (
        "        self.currentTerm, self.votedFor, self.lastIncludedIndex, entries = labgob.lo"
        "ads(data)\n",
        "        self.currentTerm, _, self.lastIncludedIndex, entries = labgob.loads(data)\n",
    ),
]
