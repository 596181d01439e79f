"""The pytest hook labsim calls for others to implement (added by labsim.pytest_plugin).

    pytest_labsim_shrunk(item, reports, path)
        --sim-shrink has just run the shrunk run of item once more (reports: its
        phases' reports); draw its page at path and return where it went.
        labtools.timeline_plugin draws the timeline page (the run's record
        holds a "departure" event at each departure).
"""

from __future__ import annotations

from typing import Any, List, Optional

import pytest


@pytest.hookspec(firstresult=True)
def pytest_labsim_shrunk(item: pytest.Item, reports: List[Any], path: str) -> Optional[str]:
    """Draw the page of item's run just made at path; return the path written, or None."""
