"""The Persister: where a Raft peer keeps the state it must not lose.

The test harness hands each peer a Persister and, when it "crashes" the peer,
keeps a copy of what was saved, so the restarted peer reads the last state
its previous incarnation saved. Each method is atomic; state and snapshot
are bytes (encode them with labgob).
"""

from __future__ import annotations

import threading


def _check_bytes(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(
            f"Persister: {what} must be bytes (encode it with labgob.dumps), "
            f"got {type(value).__name__}"
        )
    return bytes(value)


class Persister:
    def __init__(self) -> None:
        self._mu = threading.Lock()
        self._raftstate = b""
        self._snapshot = b""

    def Copy(self) -> "Persister":
        """A new Persister holding the same state and snapshot."""
        with self._mu:
            copy = Persister()
            copy._raftstate = self._raftstate
            copy._snapshot = self._snapshot
            return copy

    def SaveRaftState(self, state: bytes) -> None:
        state = _check_bytes(state, "raft state")
        with self._mu:
            self._raftstate = state

    def ReadRaftState(self) -> bytes:
        with self._mu:
            return self._raftstate

    def RaftStateSize(self) -> int:
        with self._mu:
            return len(self._raftstate)

    def SaveStateAndSnapshot(self, state: bytes, snapshot: bytes) -> None:
        """Save both at once, so a crash never leaves one without the other."""
        state = _check_bytes(state, "raft state")
        snapshot = _check_bytes(snapshot, "snapshot")
        with self._mu:
            self._raftstate = state
            self._snapshot = snapshot

    def ReadSnapshot(self) -> bytes:
        with self._mu:
            return self._snapshot

    def SnapshotSize(self) -> int:
        with self._mu:
            return len(self._snapshot)


def MakePersister() -> Persister:
    return Persister()
