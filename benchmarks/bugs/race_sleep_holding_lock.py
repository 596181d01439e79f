"""The ticker sleeps with the lock held."""

PART = "2A"
RULE = "the lock is never held across a sleep, an RPC or a put on applyCh (race checker)"
EDITS = [(
    "            self._run(jobs)\n"
    "            time.sleep(min(max(wake_at - time.monotonic(), 0.001), TICK_S))\n",
    "                time.sleep(min(max(wake_at - time.monotonic(), 0.001), TICK_S))\n"
    "            self._run(jobs)\n",
)]
