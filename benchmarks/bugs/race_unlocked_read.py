"""A vote-reply thread reads currentTerm before it takes the lock."""

PART = "2A"
RULE = "shared state is read and written with the peer's lock held (race checker)"
EDITS = [(
    '        if not self.peers[peer].Call("Raft.RequestVote", args, reply):\n'
    '            return\n',
    '        if not self.peers[peer].Call("Raft.RequestVote", args, reply):\n'
    '            return\n'
    '        if reply.Term < self.currentTerm:  # a stale reply: nothing to do\n'
    '            return\n',
)]
