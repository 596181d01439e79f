"""A run as a picture: one self-contained HTML page per record.

    raft-timeline RECORD.jsonl -o run.html      (or: python -m labtools.timeline ...)
    pytest --timeline DIR [--timeline-all]     a page per failing (or every) test
                                                (labtools.timeline_plugin)

    events = read_record(path)                  a saved record (JSON lines), checked
    html = render(source, verdict=, note=)      source: a Record, a list of events, a path
    write_page(source, path, ...)               render and write; returns the path

The page holds everything (CSS, script, the record's data): no network, no
external fonts or scripts, so it opens from a mail attachment. What it shows
is in timeline_model (the data) and timeline_page/page.js (the drawing).
The same record always gives the same bytes.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from labtools.timeline_model import (OUTCOMES, RecordError, check_events, page_data,
                                     without_addresses)

PAGE_DIR = Path(__file__).resolve().parent / "timeline_page"

__all__ = ["OUTCOMES", "RecordError", "read_record", "events_of", "render", "write_page", "main"]


def read_record(path: Path) -> List[Dict[str, Any]]:
    """The events of a saved record (one JSON object a line), checked."""
    events: List[Dict[str, Any]] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as err:
                raise RecordError(f"{path}:{number}: not JSON ({err.msg})") from None
            if not isinstance(event, dict):
                raise RecordError(f"{path}:{number}: an event is a JSON object, "
                                  f"not {type(event).__name__}")
            events.append(event)
    if not events:
        raise RecordError(f"{path}: the record is empty")
    try:
        check_events(events)
    except RecordError as err:
        raise RecordError(f"{path}: {err}") from None
    return events


def events_of(source: Any) -> List[Dict[str, Any]]:
    """The event list of a Record (anything with .events), a list, or a file path."""
    if isinstance(source, (str, Path)):
        return read_record(Path(source))
    events = getattr(source, "events", source)
    if not isinstance(events, (list, tuple)):
        raise RecordError(f"cannot draw a {type(source).__name__}: give a Record, "
                          f"a list of events or a record file")
    return list(events)


def _seconds(us: int) -> str:
    return f"{us / 1e6:.3f} s"


def _link(us: int, text: str) -> str:
    return f'<a data-zoom="{us}">{html.escape(text)}</a>'


def _summary(data: Dict[str, Any], events: Sequence[Dict[str, Any]]) -> List[str]:
    """The header's lines: what happened, each with a link to its moment."""
    rows = [
        f"<div><b>{data['peers']}</b> peers · <b>{_seconds(data['t_end'])}</b> · "
        f"<b>{data['rpc_count']}</b> RPCs ({data['lost_count']} not answered) · "
        f"<b>{len(data['logs']['t'])}</b> DPrintf lines</div>"
    ]
    seen = set()
    leaders = []
    for t, peer, term in data["leaders"]:
        if (peer, term) not in seen:
            seen.add((peer, term))
            leaders.append(_link(t, f"S{peer} leads term {term} from {_seconds(t)}"))
    rows.append("<div><b>Leaders:</b> " + ("; ".join(leaders) or "none") + "</div>")
    end = data["t_end"]

    def spans(items: List[List[Any]], what: str) -> None:
        parts = [_link(a, f"S{p} {_seconds(a)}–" + ("end" if b >= end else _seconds(b)))
                 for p, a, b in items if p is not None]
        if parts:
            rows.append(f"<div><b>{what}:</b> " + "; ".join(parts) + "</div>")
    spans(data["cut"], "Cut off")
    spans(data["crashed"], "Crashed")
    for e in events:
        if e["kind"] == "harness" and e.get("action") == "check" and not e.get("ok"):
            why = e.get("message") or e.get("result") or ""
            rows.append(f"<div><b>Check failed:</b> "
                        f"{_link(round(e['t'] * 1e6), str(e.get('name', 'check')))} at "
                        f"{e['t']:.3f} s: {html.escape(str(why))}</div>")
        elif e["kind"] == "violation":
            rows.append(f"<div><b>Violation:</b> "
                        f"{_link(round(e['t'] * 1e6), str(e.get('rule', '?')))} at "
                        f"{e['t']:.3f} s ({html.escape(str(e.get('source', '')))}): "
                        f"{html.escape(str(e.get('message', '')))}</div>")
    departures = [e for e in events if e["kind"] == "departure"]
    if departures:
        told = [f"{_link(round(e['t'] * 1e6), str(e.get('what', '?')))} at {e['t']:.3f} s"
                for e in departures[:DEPARTURES_TOLD]]
        more = len(departures) - DEPARTURES_TOLD
        rows.append(f"<div><b>{len(departures)} departures</b> from a calm run (▼): "
                    + "; ".join(told) + (f"; and {more} more" if more > 0 else "") + "</div>")
    if data["logs_cut"]:
        rows.append(f"<div>The first {len(data['logs']['t'])} DPrintf lines are kept; "
                    f"{data['logs_cut']} more were left out.</div>")
    return rows


# The header names a run's departures (labsim --sim-shrink) up to this many.
DEPARTURES_TOLD = 12

LEGEND = (
    '<span><span class="swatch" style="background:#2e9d4a"></span>leader</span>'
    '<span><span class="swatch" style="background:#f0a830"></span>candidate</span>'
    '<span><span class="swatch" style="background:#dfe3e8"></span>follower (T = term)</span>'
    '<span><span class="swatch" style="background:#555b63"></span>down</span>'
    '<span>hatched red: cut off (disconnected) · grey: crashed · yellow tint: unreliable</span>'
    '<span>arrow: request at its send and handling times; faint line: the reply '
    '(dashed: held back)</span>'
    '<span style="color:#d0312d">✕ where a request or reply was lost</span>'
    '<span>ticks below a lane: applies; above: the leader\'s commit index; ◆ Start(); '
    '● checks; ▲ violations; ▼ departures from a calm run (labsim --sim-shrink)</span>'
    '<span>wheel or +/-: zoom · drag or ←/→: pan · 0: fit · click: details</span>'
)

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script>
// Any error on this page is kept where a test (and a reader) can see it.
window.addEventListener('error', function (e) {{
  var box = document.getElementById('page-errors');
  document.documentElement.dataset.errors = (+(document.documentElement.dataset.errors || 0)) + 1;
  if (box) box.textContent += 'error: ' + e.message + '\\n';
}});
</script>
<style>
{css}
</style>
</head>
<body>
<header>
<h1>{heading}{verdict}</h1>
{note}
<div class="summary">
{summary}
</div>
<pre id="page-errors"></pre>
</header>
<div id="controls">
<fieldset><legend>peers</legend><span id="f-peers"></span></fieldset>
<fieldset><legend>RPCs</legend><span id="f-kinds"></span></fieldset>
<fieldset><legend>outcome</legend><span id="f-outcomes"></span></fieldset>
<fieldset><legend>marks</legend><span id="f-marks"></span></fieldset>
<span><button id="zoom-in">+</button> <button id="zoom-out">−</button>
<button id="zoom-fit">fit</button> <span id="view"></span></span>
</div>
<div id="chart-wrap"><canvas id="chart"></canvas><div id="tip"></div></div>
<div id="panels">
<div id="details"><h2 id="details-head">Details</h2><pre id="details-body"></pre></div>
<div id="nearby"><h2>DPrintf lines near it</h2><div id="nearby-body" class="hint"></div></div>
</div>
<div id="legend">{legend}</div>
<script type="application/json" id="record-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""


def render(source: Any, title: Optional[str] = None, verdict: Optional[str] = None,
           note: Optional[str] = None) -> str:
    """The page for a record. verdict: "passed"/"failed" (a badge); note: why it failed."""
    events = events_of(source)
    check_events(events)
    events = sorted(events, key=lambda e: e["seq"])
    data = page_data(events)
    heading = title or data["test"] or "a run"
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                         allow_nan=False)
    # Inside <script>, "</" could end the element early; JSON reads "<\\/" as "</".
    payload = payload.replace("</", "<\\/")
    badge = ""
    if verdict:
        badge = f'<span class="verdict {html.escape(verdict)}">{html.escape(verdict)}</span>'
    return TEMPLATE.format(
        title=html.escape(f"timeline: {heading}"),
        heading=html.escape(heading),
        verdict=badge,
        # (an address in a failure's text changes from one process to the next)
        note=f'<div class="note">{html.escape(without_addresses(note))}</div>' if note else "",
        summary="\n".join(_summary(data, events)),
        legend=LEGEND,
        css=(PAGE_DIR / "page.css").read_text(encoding="utf-8"),
        js=(PAGE_DIR / "page.js").read_text(encoding="utf-8"),
        data=payload,
    )


def write_page(source: Any, path: Path, **options: Any) -> Path:
    """Render source's page and write it to path (its folder is made)."""
    path = Path(path)
    page = render(source, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(page.encode("utf-8"))
    return path


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="raft-timeline",
        description="Draw a run's record (JSON lines) as one self-contained HTML page.",
    )
    parser.add_argument("record", type=Path, help="a record saved by Record.save (JSON lines)")
    parser.add_argument("-o", "--output", type=Path,
                        help="the page to write (default: RECORD with .html)")
    parser.add_argument("--title", help="the page's heading (default: the test's name)")
    args = parser.parse_args(argv)
    if not args.record.is_file():
        parser.error(f"no such record file: {args.record}")
    output = args.output or args.record.with_suffix(".html")
    try:
        write_page(args.record, output, title=args.title)
    except RecordError as err:
        print(f"raft-timeline: {err}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({output.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
