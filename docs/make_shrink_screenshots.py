"""Make docs/shrink-before.png and docs/shrink-after.png, docs/shrinking.md's pictures.

    python -m docs.make_shrink_screenshots

A real failing run, the same on every replay: the catalogue's
vote_without_term_update bug under TestReElection2A, simulated with seed 1.
`pytest --sim-shrink --timeline DIR` draws the seed's own run (DIR, every
departure from a calm run marked) and the shrunk run (beside its replay
file); each page is opened with its first departure selected, as a reader
would click it, and headless chromium takes the screenshots.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bugs import PLUGINS, RUNNER, catalogue
from tests.labtools.headless_chromium import find_chromium, open_page

ROOT = Path(__file__).resolve().parent.parent

BUG, TEST, SEED = "vote_without_term_update", "TestReElection2A", 1

SELECT_DEPARTURE = """<script>
const marks = JSON.parse(document.getElementById('record-data').textContent).marks;
timeline.select('mark', marks.findIndex(m => m[2] === 'departure'));
</script></body>"""


def main() -> int:
    browser = find_chromium()
    if browser is None:
        print("needs chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        tree = catalogue([BUG])[0].lab_tree(Path(folder) / "tree")
        run = subprocess.run(
            [sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider", *PLUGINS,
             "-p", "labtools.timeline_plugin", "src/raft/test_raft.py", "-k", TEST, "--sim",
             f"--sim-seed={SEED}", "--sim-shrink", "--timeline", "seed-page"],
            cwd=tree, capture_output=True, text=True, timeout=600,
            env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
        account = re.search(r"^\S+ seed \d+ fails with .*$", run.stdout, flags=re.MULTILINE)
        pages = {"before": tree / "seed-page" / f"{TEST}.html",
                 "after": tree / "shrunk" / f"{TEST}-seed{SEED}.html"}
        if account is None or not all(page.is_file() for page in pages.values()):
            print(f"expected {TEST} seed {SEED} to fail and shrink; it did not:\n"
                  f"{run.stdout[-2000:]}", file=sys.stderr)
            return 1
        print(account.group(0))
        for name, page in pages.items():
            selected = Path(folder) / f"{name}.html"
            selected.write_text(page.read_text().replace("</body>", SELECT_DEPARTURE))
            out = ROOT / "docs" / f"shrink-{name}.png"
            shown = open_page(browser, selected, screenshot=out, window=(1100, 900))
            if shown.errors or shown.console:
                print(f"the {name} page had errors: {shown.error_text or shown.console}",
                      file=sys.stderr)
                return 1
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
