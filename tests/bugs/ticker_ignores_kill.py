"""The ticker loops forever: it never checks killed(), so Kill() leaves it running."""

PART = "2A"
RULE = None  # the tests pass; the thread outlives its peer
EDITS = [(
    "        while not self.killed():\n"
    "            with self.mu:\n"
    "                now = time.monotonic()\n",
    "        while True:\n"
    "            with self.mu:\n"
    "                now = time.monotonic()\n",
)]
