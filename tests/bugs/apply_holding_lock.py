"""The applier puts on applyCh while holding the peer's lock."""

PART = "2D"
RULE = "applyCh deadlock"
EDITS = [
    (
        "                    self.lastApplied = self.commitIndex\n"
        "            # The lock is not held while the service takes the messages.\n"
        "            for msg in msgs:\n"
        "                self.applyCh.put(msg)\n",
        "                    self.lastApplied = self.commitIndex\n"
        "                for msg in msgs:\n"
        "                    self.applyCh.put(msg)\n",
    ),
]
