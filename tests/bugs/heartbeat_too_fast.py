"""Heartbeats 20 times a second, where the tester allows 10."""

PART = "2A"
RULE = "heartbeat rate"
EDITS = [
    (
        "HEARTBEAT_INTERVAL_S = 0.100\n",
        "HEARTBEAT_INTERVAL_S = 0.050\n",
    ),
]
