"""The ticker sleeps with the lock held."""

PART = "2A"
RULE = "the lock is never held across a sleep, an RPC or a put on applyCh (race checker)"
# What `pytest -k 2A --race` must say of it (every fragment, in its output).
REPORT = (
    'time.sleep called while holding',
    'self.mu',
    'in ticker',
)
EDITS = [(
    "            self._run(jobs)\n"
    "            time.sleep(min(max(wake_at - time.monotonic(), 0.001), TICK_S))\n",
    "                time.sleep(min(max(wake_at - time.monotonic(), 0.001), TICK_S))\n"
    "            self._run(jobs)\n",
)]
