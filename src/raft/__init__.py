"""The Raft lab: Raft itself, its persister, the tester's harness and tests.

Module map (Go file -> Python module):
    raft/raft.go      -> raft.raft          (Make, Raft, ApplyMsg)
    raft/persister.go -> raft.persister     (MakePersister, Persister)
    raft/config.go    -> raft.config        (make_config, the tester's harness)
    raft/util.go      -> raft.util          (DPrintf)
    raft/test_test.go -> raft.test_raft     (the 2A-2D tests, under their Go names)

Go's testing.T and applyCh's channel are in labtest, the lab's pytest glue
too. `from raft import Make` imports the student's raft.py only when one of
its names is first asked for: nothing may run a submission's code before the
tests (and their checks) are in place.
"""

from typing import Any

__all__ = ["ApplyMsg", "Make", "MakePersister", "Persister", "Raft"]

_HOMES = {"ApplyMsg": "raft.raft", "Make": "raft.raft", "Raft": "raft.raft",
          "MakePersister": "raft.persister", "Persister": "raft.persister"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'raft' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(home), name)
