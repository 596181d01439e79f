"""How big a timeline page gets, and how fast the browser draws it.

    python -m benchmarks.timeline_size [--rpcs 20000] [--seconds 120] [--runs 3]

Draws the stand-in record of a 2-minute, 5-peer unreliable run with about
20,000 RPCs (tests/timeline_records.py; the real record has the same events)
and prints: the record's size, the page's size, the time Python takes to write
it, and in headless chromium (median of --runs loads): the time from the start
of navigation to the page drawn (the page parses its data and draws before its
load event), the first draw alone, a redraw of the whole run and of a 2-second
window (zooming and panning), and chromium's wall time for the whole load.
The baselines, measured in the same run: an empty page, and the 3.4-second
failing 2A-like record (89 RPCs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List


from tests.labtools import timeline_records as records
from tests.labtools.headless_chromium import find_chromium, open_page
from labtools import timeline  # noqa: E402

MB = 1_000_000


# Appended to a copy of the page: redraw the whole run, then a 2-second window
# in its middle (what zooming and panning cost), and keep both times.
REDRAWS = """<script>
const b = document.body.dataset;
b.firstms = b.drawms; b.firstarrows = b.arrows;
timeline.fit(); document.body.dataset.fullms = document.body.dataset.drawms;
const mid = timeline.view().reduce((a, b) => a + b) / 2;
timeline.zoomTo(mid, 2e6); document.body.dataset.zoomms = document.body.dataset.drawms;
</script></body>"""


def measure(browser: str, page: Path, runs: int) -> Dict[str, float]:
    driven = page.with_name(page.stem + "-driven.html")
    driven.write_text(page.read_text().replace("</body>", REDRAWS))
    loads = [open_page(browser, driven) for _ in range(runs)]
    for run in loads:
        if run.errors or run.console or run.body.get("ready") != "1":
            raise SystemExit(f"{page} did not draw cleanly: {run.error_text or run.console}")
    return {
        "loadms": statistics.median(float(r.body["loadms"]) for r in loads),
        "drawms": statistics.median(float(r.body["firstms"]) for r in loads),
        "wall": statistics.median(r.seconds for r in loads),
        "fullms": statistics.median(float(r.body["fullms"]) for r in loads),
        "zoomms": statistics.median(float(r.body["zoomms"]) for r in loads),
        "arrows": float(loads[0].body["firstarrows"]),
    }


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpcs", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    browser = find_chromium()

    with tempfile.TemporaryDirectory(prefix="timeline-bench-") as folder:
        out = Path(folder)
        pages: List[Any] = []
        for name, events in (("2A-like", records.failing_reelection()),
                             ("large", records.large(args.rpcs, args.seconds))):
            record = records.write_jsonl(events, out / f"{name}.jsonl")
            t0 = time.perf_counter()
            page = timeline.write_page(timeline.read_record(record), out / f"{name}.html")
            render_s = time.perf_counter() - t0
            rpcs = sum(1 for e in events if e["kind"] == "rpc")
            pages.append((name, events, record, page, render_s, rpcs))
        empty = out / "empty.html"
        empty.write_text("<!DOCTYPE html><html><body></body></html>")

        print(f"{'record':10} {'events':>7} {'RPCs':>6} {'seconds':>7} {'record MB':>9} "
              f"{'page MB':>7} {'write s':>7}")
        for name, events, record, page, render_s, rpcs in pages:
            print(f"{name:10} {len(events):7d} {rpcs:6d} {events[-1]['t']:7.1f} "
                  f"{record.stat().st_size / MB:9.2f} {page.stat().st_size / MB:7.2f} "
                  f"{render_s:7.2f}")
        if browser is None:
            print("chromium is not installed (apt-get install chromium): no drawing times")
            return 0
        print(f"\nchromium, median of {args.runs} loads: navigation to drawn, the first draw "
              "alone, a redraw of the whole run and of a 2 s window (ms); chromium's wall "
              "time for the load (s)")
        print(f"{'':10} {'to drawn':>9} {'draw':>6} {'redraw':>6} {'2 s':>6} {'wall':>6}")
        open_page(browser, empty)           # warm the disk cache: the first start is slower
        base = statistics.median(open_page(browser, empty).seconds for _ in range(args.runs))
        print(f"{'empty page':10} {'':>9} {'':>6} {'':>6} {'':>6} {base:6.2f}")
        for name, events, record, page, render_s, rpcs in pages:
            figures = measure(browser, page, args.runs)
            assert figures["arrows"] == rpcs, (figures, rpcs)
            print(f"{name:10} {figures['loadms']:9.0f} {figures['drawms']:6.0f} "
                  f"{figures['fullms']:6.0f} {figures['zoomms']:6.0f} {figures['wall']:6.2f}"
                  f"   ({int(figures['arrows'])} arrows drawn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
