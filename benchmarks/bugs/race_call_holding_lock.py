"""The leader sends AppendEntries with the lock held."""

PART = "2A"
RULE = "the lock is never held across a sleep, an RPC or a put on applyCh (race checker)"
EDITS = [(
    '        ok = self.peers[peer].Call("Raft.AppendEntries", args, reply)\n'
    "        jobs: List[Job] = []\n"
    "        with self.mu:\n",
    "        jobs: List[Job] = []\n"
    "        with self.mu:\n"
    '            ok = self.peers[peer].Call("Raft.AppendEntries", args, reply)\n',
)]
