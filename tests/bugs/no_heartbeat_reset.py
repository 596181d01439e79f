"""A follower does not restart its election timer when a leader's AppendEntries arrives."""

PART = "2A"
RULE = None  # liveness: followers start needless elections
EDITS = [(
    "            if args.Term > self.currentTerm or self.role != FOLLOWER:\n"
    "                self._become_follower_locked(args.Term)\n"
    "            self._reset_election_timer_locked()\n"
    "            reply.Term = self.currentTerm\n\n"
    "            prev, entries",
    "            if args.Term > self.currentTerm or self.role != FOLLOWER:\n"
    "                self._become_follower_locked(args.Term)\n"
    "            reply.Term = self.currentTerm\n\n"
    "            prev, entries",
)]
