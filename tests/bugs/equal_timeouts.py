"""All-equal election timeouts: every peer waits the same time, so candidates split the vote."""

PART = "2A"
RULE = None  # liveness: elections may never settle
EDITS = [(
    "        timeout = random.uniform(ELECTION_TIMEOUT_MIN_S, ELECTION_TIMEOUT_MAX_S)\n",
    "        timeout = ELECTION_TIMEOUT_MIN_S\n",
)]
