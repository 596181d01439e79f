"""A follower commits up to LeaderCommit or its log's end, not the last new entry."""

PART = "2B"
RULE = "follower commit bound"
EDITS = [
    (
        "self._set_commit_index_locked(min(args.LeaderCommit, last_new))",
        "self._set_commit_index_locked(min(args.LeaderCommit, self._last_log_index()))",
    ),
]
