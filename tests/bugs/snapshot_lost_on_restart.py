"""readPersist forgets the snapshot, so the next persist() erases it."""

PART = "2D"
RULE = None
EDITS = [
    (
        "        self.snapshot = self.persister.ReadSnapshot()\n",
        '        self.snapshot = b""\n',
    ),
]
