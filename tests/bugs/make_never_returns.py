"""Make runs the ticker itself instead of starting a thread for it: Make never returns."""

PART = "2A"
RULE = None  # Make must return at once (the handout's interface)
EDITS = [(
    '    threading.Thread(target=rf.ticker, name=f"raft-S{me}-ticker", daemon=True).start()\n',
    "    rf.ticker()\n",
)]
