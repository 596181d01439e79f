"""AppendEntries resets the election timer before it takes the lock."""

PART = "2A"
RULE = "shared state is read and written with the peer's lock held (race checker)"
# What `pytest -k 2A --race` must say of it (every fragment, in its output).
REPORT = (
    '._election_deadline: written by one thread',
    'write by thread labrpc-handler',
    'WITHOUT the lock',
    'in AppendEntries',
)
EDITS = [(
    "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:\n"
    "        with self.mu:\n",
    "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:\n"
    "        self._reset_election_timer_locked()  # heard from a leader\n"
    "        with self.mu:\n",
)]
