"""A leader commits once one follower holds an entry, majority or not."""

PART = "2B"
RULE = "commit needs a majority"
EDITS = [
    (
        "            if self._is_majority(sum(1 for match in self.matchIndex if match >= inde"
        "x)):\n",
        "            if sum(1 for match in self.matchIndex if match >= index) >= 2:\n",
    ),
]
