"""A hint when a student's raft.py hides the `raft` package from `python -m`.

    from labrpc import shadow
    shadow.hint_if_shadowed()     # labrpc calls it once, when first imported

Python puts the current folder first on the import path, so in a folder
holding a raft.py, `python -m raft.<module>` (or `python -m raft`) imports that
file as `raft`, and fails with "'raft' is not a package" or runs the wrong
thing. The student's raft.py imports labrpc on its way to that failure, so
this is the one place of ours that runs in time to say what to do instead:
the console commands, which no folder can shadow. It only prints (to
stderr); Python's own error follows as before.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Optional

COMMANDS = "raft-demo, raft-stress, raft-logview, raft-timeline"


def _plain_module(module: Optional[ModuleType]) -> bool:
    """A module (a file such as raft.py) rather than a package."""
    return module is not None and not hasattr(module, "__path__")


def shadowing() -> Optional[str]:
    """What `python -m` was asked for, if a raft.py shadows the package; else None."""
    raft = sys.modules.get("raft")
    # python -m raft.X: Python imports the parent `raft` (the student's file)
    # while finding raft.X; argv[0] is still '-m' until it is found.
    if sys.argv[:1] == ["-m"] and _plain_module(raft):
        return "python -m raft.<tool>"
    # python -m raft: the folder's raft.py runs as __main__.
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name == "raft" and spec.submodule_search_locations is None:
        return "python -m raft"
    return None


def hint_if_shadowed() -> None:
    asked = shadowing()
    if asked is None:
        return
    print(f"labrpc: `{asked}` found the raft.py in this folder instead of the lab's "
          f"`raft` package (Python looks in the current folder first). Use the console "
          f"commands instead, which work from any folder: {COMMANDS}.",
          file=sys.stderr)
