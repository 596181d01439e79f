"""A vote-reply thread reads currentTerm before it takes the lock."""

PART = "2A"
RULE = "shared state is read and written with the peer's lock held (race checker)"
# What `pytest -k 2A --race` must say of it (every fragment, in its output).
REPORT = (
    '.currentTerm: written by one thread',
    'read by thread raft-S',
    'WITHOUT the lock',
    'in _ask_for_vote',
)
EDITS = [(
    '        if not self.peers[peer].Call("Raft.RequestVote", args, reply):\n'
    '            return\n',
    '        if not self.peers[peer].Call("Raft.RequestVote", args, reply):\n'
    '            return\n'
    '        if reply.Term < self.currentTerm:  # a stale reply: nothing to do\n'
    '            return\n',
)]
