"""The ticker never looks at killed() and is not a daemon thread: it outlives its peer."""

PART = "2A"
RULE = None  # a killed peer's threads must end (the handout: Kill)
EDITS = [
    (
        "        while not self.killed():\n"
        "            with self.mu:\n"
        "                now = time.monotonic()\n",
        "        while True:\n"
        "            with self.mu:\n"
        "                now = time.monotonic()\n",
    ),
    (
        '    threading.Thread(target=rf.ticker, name=f"raft-S{me}-ticker", daemon=True).start()\n',
        '    threading.Thread(target=rf.ticker, name=f"raft-S{me}-ticker").start()\n',
    ),
]
