"""Make docs/timeline-2A.png, docs/timeline.md's picture of a failing 2A run's page.

    python -m docs.make_timeline_screenshot

A real failing run, the same on every replay: the catalogue's vote_twice
bug (tests/bugs/) under TestReElection2A, simulated with seed 3, where
the monitors catch a vote given twice in one term. Its page (pytest
--timeline) is opened with that violation selected, as a reader would click
it, and headless chromium takes the screenshot.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bugs import PLUGINS, RUNNER, catalogue
from tests.labtools.headless_chromium import find_chromium, open_page

ROOT = Path(__file__).resolve().parent.parent


BUG, TEST, SEED = "vote_twice", "TestReElection2A", 3
# The lab tree runs with plugin autoloading off, so --timeline's plugin (an
# entry point of its own) is named here, as the grader names it.
TIMELINE_PLUGIN = ["-p", "labtools.timeline_plugin"]

SELECT_VIOLATION = """<script>
const marks = JSON.parse(document.getElementById('record-data').textContent).marks;
timeline.select('mark', marks.findIndex(m => m[2] === 'violation'));
</script></body>"""


def main() -> int:
    browser = find_chromium()
    if browser is None:
        print("needs chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    out = ROOT / "docs" / "timeline-2A.png"
    with tempfile.TemporaryDirectory() as folder:
        tree = catalogue([BUG])[0].lab_tree(Path(folder) / "tree")
        pages = Path(folder) / "pages"
        run = subprocess.run(
            [sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider", *PLUGINS,
             *TIMELINE_PLUGIN, "src/raft/test_raft.py", "-k", TEST, "--sim", f"--sim-seed={SEED}",
             f"--timeline={pages}"],
            cwd=tree, capture_output=True, text=True, timeout=300,
            env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
        page = pages / f"{TEST}.html"
        if run.returncode == 0 or not page.is_file():
            print(f"expected {TEST} to fail with a page; it did not:\n{run.stdout[-2000:]}",
                  file=sys.stderr)
            return 1
        selected = Path(folder) / "run.html"
        selected.write_text(page.read_text().replace("</body>", SELECT_VIOLATION))
        shown = open_page(browser, selected, screenshot=out, window=(1400, 860))
    if shown.errors or shown.console:
        print(f"the page had errors: {shown.error_text or shown.console}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
