"""AppendEntries never rejects a request from an older term: a deposed leader still writes logs."""

PART = "2B"
RULE = "reply false if term < currentTerm"
EDITS = [(
    "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:\n"
    "        with self.mu:\n"
    "            reply.Term = self.currentTerm\n"
    "            if args.Term < self.currentTerm:\n"
    "                return\n",
    "    def AppendEntries(self, args: AppendEntriesArgs, reply: AppendEntriesReply) -> None:\n"
    "        with self.mu:\n"
    "            reply.Term = self.currentTerm\n",
)]
