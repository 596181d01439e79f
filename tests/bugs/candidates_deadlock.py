"""Two candidates, each holding its lock while it asks the other for its vote.

Every peer's election timer ends on the same tick of the clock, so the
peers stand for election together; each candidate's vote requests hold its
lock until the reply comes, and the other's RequestVote handler waits for
that lock: no reply ever comes (in Go, the test hangs until its timeout).
"""

from tests.bugs import lock_across_call

PART = "2A"
RULE = "never hold the lock across an RPC"
EDITS = lock_across_call.EDITS + [(
    "        timeout = random.uniform(ELECTION_TIMEOUT_MIN_S, ELECTION_TIMEOUT_MAX_S)\n"
    "        self._election_deadline = time.monotonic() + timeout\n",
    "        period = ELECTION_TIMEOUT_MAX_S  # (every peer's timer ends on the same tick)\n"
    "        self._election_deadline = (time.monotonic() // period + 2) * period\n",
)]
