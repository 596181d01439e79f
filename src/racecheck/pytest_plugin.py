"""pytest glue for the race checker (`--race`): reports a failure did not show.

A report fails its test at the harness's next check (t.fail_later). A test
can fail otherwise first: peers that hold their lock across a Call often
deadlock, and the test then ends by its timeout. This hook adds, to a
failed test, a "race checker" section with every report made during it
that the failure message does not already hold.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

import racecheck


def pytest_runtest_setup(item: pytest.Item) -> None:
    racecheck.forget_reports()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    shown = str(report.longrepr)
    missing = [text for text in racecheck.reports() if text not in shown]
    if missing:
        report.sections.append(("race checker", "\n\n".join(missing)))
