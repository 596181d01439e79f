"""The ticker never looks at killed() and is not a daemon thread: it outlives its peer."""

from tests.bugs import ticker_ignores_kill

PART = "2A"
RULE = None  # a killed peer's threads must end (the handout: Kill)
# ticker_ignores_kill's loop, in a thread that also keeps the process alive.
EDITS = [
    *ticker_ignores_kill.EDITS,
    (
        '    threading.Thread(target=rf.ticker, name=f"raft-S{me}-ticker", daemon=True).start()\n',
        '    threading.Thread(target=rf.ticker, name=f"raft-S{me}-ticker").start()\n',
    ),
]
