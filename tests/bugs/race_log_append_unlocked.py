"""AppendEntries appends the new entries to the log after releasing the lock."""

PART = "2A"
RULE = "shared state is read and written with the peer's lock held (race checker)"
# What `pytest -k 2A --race` must say of it (every fragment, in its output).
REPORT = (
    '.log: written by one thread',
    'write by thread labrpc-handler',
    'WITHOUT the lock',
    'in AppendEntries',
)
EDITS = [
    ("            # Append what is new; cut the log only where it disagrees, since\n",
     "            new_entries = []\n"
     "            # Append what is new; cut the log only where it disagrees, since\n"),
    ("                    self.log.extend(entries[offset:])\n",
     "                    new_entries = entries[offset:]\n"),
    ("                self._set_commit_index_locked(min(args.LeaderCommit, last_new))\n",
     "                self._set_commit_index_locked(min(args.LeaderCommit, last_new))\n"
     "        self.log.extend(new_entries)  # the lock is not needed to append, is it?\n"),
]
