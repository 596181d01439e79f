"""Make docs/timeline-2A.png, README's picture of a failing 2A-like run's page.

    python docs/make_timeline_screenshot.py

Draws the stand-in failing TestReElection2A record (tests/timeline_records.py),
selects its violation as a reader would click it, and has headless chromium
take the screenshot.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import timeline_records as records  # noqa: E402
from headless_chromium import find_chromium, open_page  # noqa: E402
from labtools import timeline  # noqa: E402

SELECT_VIOLATION = """<script>
const marks = JSON.parse(document.getElementById('record-data').textContent).marks;
timeline.select('mark', marks.findIndex(m => m[2] === 'violation'));
</script></body>"""


def main() -> int:
    browser = find_chromium()
    if browser is None:
        print("needs chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    page = timeline.render(
        records.failing_reelection(), verdict="failed",
        note="expected no leader among connected servers, but 2 claims to be leader")
    out = ROOT / "docs" / "timeline-2A.png"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.html"
        path.write_text(page.replace("</body>", SELECT_VIOLATION))
        run = open_page(browser, path, screenshot=out, window=(1400, 860))
    if run.errors or run.console:
        print(f"the page had errors: {run.error_text or run.console}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
