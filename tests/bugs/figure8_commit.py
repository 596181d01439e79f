"""A leader commits an old term's entry by counting replicas (Figure 8)."""

PART = "2C"
RULE = "commit only current-term entries"
EDITS = [
    (
        "            if self._term_at(index) != self.currentTerm:\n"
        "                break  # older terms commit only under a current-term entry\n",
        "",
    ),
]
