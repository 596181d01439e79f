"""Which tests are the lab's: the lab's checks and messages apply to those alone.

    is_lab_test(item)      the test asks for the fixture t (Go's *testing.T),
                           or made a T of its own since its setup began (every
                           harness Config takes one); a T once made stays made
    is_lab_nodeid(nodeid)  the same, for a report (known from its makereport on)

The lab's pytest plugin is an entry point: it loads in every pytest run of
the environment, other projects' included. A test that never touched the
harness (a labrpc test of another project, say) keeps pytest's own
behaviour: no thread-leak check, no rewritten failure, no next steps.
"""

from __future__ import annotations

from typing import Any, Iterator, Set

import pytest

from labtest import testing

_HANDLES_AT_SETUP = pytest.StashKey[int]()
_LAB_NODEIDS: Set[str] = set()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_HANDLES_AT_SETUP] = testing.handles_made()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    if is_lab_test(item):
        _LAB_NODEIDS.add(item.nodeid)
    yield


def is_lab_test(item: pytest.Item) -> bool:
    """Whether item is one of the lab's tests (see the module's docstring)."""
    if "t" in getattr(item, "fixturenames", ()):
        return True
    at_setup = item.stash.get(_HANDLES_AT_SETUP, None)
    return at_setup is not None and testing.handles_made() > at_setup


def is_lab_nodeid(nodeid: str) -> bool:
    """Whether the test of this node id was found to be the lab's."""
    return nodeid in _LAB_NODEIDS
