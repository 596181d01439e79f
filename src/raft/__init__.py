"""The Raft lab: Raft itself, its persister, and the test harness.

Module map (Go file -> Python module):
    raft/raft.go      -> raft.raft      (Make, Raft, ApplyMsg)
    raft/persister.go -> raft.persister (MakePersister, Persister)
    raft/config.go    -> raft.config    (make_config, the tester's harness)
    raft/util.go      -> raft.util      (DPrintf)
    testing.T         -> raft.testing   (T, the harness's handle on a test)
"""

from raft.persister import MakePersister, Persister
from raft.raft import ApplyMsg, Make, Raft

__all__ = ["ApplyMsg", "Make", "MakePersister", "Persister", "Raft"]
