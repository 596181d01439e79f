"""AppendEntries resets the election timer before it takes the lock."""

PART = "2A"
RULE = "shared state is read and written with the peer's lock held (race checker)"
EDITS = [(
    "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:\n"
    "        with self.mu:\n",
    "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:\n"
    "        self._reset_election_timer_locked()  # heard from a leader\n"
    "        with self.mu:\n",
)]
