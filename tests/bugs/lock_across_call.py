"""A candidate holds its lock while it waits for a RequestVote reply."""

PART = "2A"
RULE = "never hold the lock across an RPC"
EDITS = [(
    '        if not self.peers[peer].Call("Raft.RequestVote", args, reply):\n'
    "            return\n"
    "        jobs: List[Job] = []\n"
    "        with self.mu:\n",
    "        jobs: List[Job] = []\n"
    "        with self.mu:\n"
    '            if not self.peers[peer].Call("Raft.RequestVote", args, reply):\n'
    "                return\n",
)]
