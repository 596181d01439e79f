"""A follower cuts its log after PrevLogIndex even where it agrees with the leader."""

PART = "2C"
RULE = "truncate only on a conflict"
EDITS = [
    (
        "            for offset, entry in enumerate(entries):\n"
        "                index = prev + 1 + offset\n",
        "            del self.log[prev + 1 - self.lastIncludedIndex:]\n"
        "            for offset, entry in enumerate(entries):\n"
        "                index = prev + 1 + offset\n",
    ),
]
