"""The leader sends AppendEntries with the lock held."""

PART = "2A"
RULE = "the lock is never held across a sleep, an RPC or a put on applyCh (race checker)"
# What `pytest -k 2A --race` must say of it (every fragment, in its output).
REPORT = (
    "Call('Raft.AppendEntries') called while holding",
    'self.mu',
    'in _send_append_entries',
)
EDITS = [(
    '        ok = self.peers[peer].Call("Raft.AppendEntries", args, reply)\n'
    "        jobs: List[Job] = []\n"
    "        with self.mu:\n",
    "        jobs: List[Job] = []\n"
    "        with self.mu:\n"
    '            ok = self.peers[peer].Call("Raft.AppendEntries", args, reply)\n',
)]
