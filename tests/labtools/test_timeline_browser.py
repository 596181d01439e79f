"""The timeline page in a real browser (Debian's chromium, headless).

The page loads without an error or a console message, draws one lane per peer
and one arrow per RPC, and answers the mouse: the wheel zooms, a hover shows
an RPC, a click shows its details and the DPrintf lines near it, a filter hides
arrows. Skipped, saying why, where chromium is not installed (CI installs it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.labtools import timeline_records as records
from tests.labtools.headless_chromium import find_chromium, open_page
from labtools import timeline

BROWSER = find_chromium()
pytestmark = [
    pytest.mark.skipif(BROWSER is None, reason="Debian's chromium is not installed "
                       "(apt-get install chromium): the timeline's browser tests need it"),
    pytest.mark.timeout(300),
]

# Appended to a page: drives it as a reader would, with real DOM events, and
# writes what it saw into <body data-selftest>.
SELF_TEST = """
<script>
(function () {
  const canvas = document.getElementById('chart');
  const box = canvas.getBoundingClientRect();
  const D = JSON.parse(document.getElementById('record-data').textContent);
  const seen = {total: +document.body.dataset.arrows};
  const at = (type, x, y, extra) => canvas.dispatchEvent(new MouseEvent(type, Object.assign(
    {bubbles: true, cancelable: true, clientX: box.left + x, clientY: box.top + y, buttons: 0},
    extra || {})));
  // zoom in around the first RequestVote, with the wheel
  const i = D.rpc.m.indexOf(D.methods.indexOf('Raft.RequestVote'));
  const sent = D.rpc.sent[i], handled = sent + D.rpc.handled[i];
  for (let k = 0; k < 12; k++) {
    canvas.dispatchEvent(new WheelEvent('wheel', {bubbles: true, cancelable: true, deltaY: -100,
      clientX: box.left + timeline.x(sent), clientY: box.top + 100}));
  }
  seen.zoomed = +document.body.dataset.arrows;
  // hover, then click, the middle of that RPC's arrow
  const x = (timeline.x(sent) + timeline.x(handled)) / 2;
  const y = (timeline.laneY(D.rpc.src[i]) + timeline.laneY(D.rpc.dst[i])) / 2;
  at('mousemove', x, y);
  seen.tip = document.getElementById('tip').textContent;
  at('mousedown', x, y, {buttons: 1});
  at('mouseup', x, y);
  seen.details = document.getElementById('details-head').textContent;
  seen.body = document.getElementById('details-body').textContent;
  seen.nearby = document.querySelectorAll('#nearby-body .line').length;
  // drag to pan: the view moves by the drag
  const before = timeline.view();
  at('mousedown', 500, 100, {buttons: 1});
  at('mousemove', 400, 100, {buttons: 1});
  at('mouseup', 400, 100);
  seen.panned = timeline.view()[0] > before[0];
  // back to the whole run, then hide every RequestVote
  document.getElementById('zoom-fit').click();
  seen.fit = +document.body.dataset.arrows;
  const box2 = Array.from(document.querySelectorAll('#f-kinds label'))
    .find(l => l.textContent.startsWith('RequestVote')).querySelector('input');
  box2.click();
  seen.filtered = +document.body.dataset.arrows;
  document.body.dataset.selftest = JSON.stringify(seen);
})();
</script>
"""


def rpcs(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [e for e in events if e["kind"] == "rpc"]


@pytest.mark.parametrize("make", [records.failing_reelection, records.everything])
def test_the_page_loads_and_draws_every_lane_and_arrow(tmp_path: Path, make: Any) -> None:
    events = make()
    page = timeline.write_page(events, tmp_path / "run.html", verdict="failed", note="x")
    run = open_page(BROWSER, page, screenshot=tmp_path / "run.png")
    assert run.errors == 0, run.error_text
    assert run.console == [], run.console
    assert run.body.get("ready") == "1", run.body
    peers = next(e["peers"] for e in events if e["kind"] == "meta")
    assert int(run.body["lanes"]) == peers
    assert int(run.body["arrows"]) == len(rpcs(events))
    assert int(run.body["lost"]) == sum(1 for e in rpcs(events) if e["outcome"] != "ok")
    assert int(run.body["marks"]) > 0
    shot = (tmp_path / "run.png").read_bytes()
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000     # drawn, not blank


def test_the_page_answers_the_mouse(tmp_path: Path) -> None:
    events = records.failing_reelection()
    html = timeline.render(events).replace("</body>", SELF_TEST + "</body>")
    page = tmp_path / "run.html"
    page.write_text(html)
    run = open_page(BROWSER, page)
    assert run.errors == 0, run.error_text
    assert run.console == [], run.console
    seen = json.loads(run.body["selftest"].replace("&quot;", '"'))
    total = len(rpcs(events))
    votes = sum(1 for e in rpcs(events) if e["method"] == "Raft.RequestVote")
    assert seen["total"] == total
    assert 0 < seen["zoomed"] < total
    assert seen["tip"].startswith("RPC ") and "RequestVote" in seen["tip"]
    assert seen["details"].startswith("RPC ") and "RequestVote S1 → S" in seen["details"]
    assert '"CandidateId": 1' in seen["body"]
    assert seen["nearby"] > 0
    assert seen["panned"] is True
    assert seen["fit"] == total
    assert seen["filtered"] == total - votes


def test_a_page_with_a_broken_script_is_caught(tmp_path: Path) -> None:
    """The checks above can fail: a page whose script throws is seen as broken."""
    html = timeline.render(records.failing_reelection())
    page = tmp_path / "broken.html"
    page.write_text(html.replace("'use strict';", "'use strict'; null.boom;", 1))
    run = open_page(BROWSER, page)
    assert run.errors == 1 and "boom" in run.error_text
    assert run.body.get("ready") is None
    assert any("Uncaught TypeError" in line for line in run.console)


ODD_RECORDS = {
    "only its meta line": [{"seq": 0, "t": 0.0, "kind": "meta", "test": "x", "peers": 3,
                            "format": 1}],
    "no meta line, no peer": [{"seq": 0, "t": 0.5, "kind": "log", "peer": None, "text": "hi"}],
    "a call from no peer, with an unknown outcome": [
        {"seq": 0, "t": 0.0, "kind": "meta", "test": "x", "peers": 1, "format": 1},
        {"seq": 1, "t": 0.2, "kind": "rpc", "id": 1, "src": None, "dst": 0,
         "method": "Raft.RequestVote", "args": None, "reply": None, "sent": 0.1,
         "handled": None, "done": 0.2, "outcome": "lost in space", "reordered": False}],
}


@pytest.mark.parametrize("name", sorted(ODD_RECORDS))
def test_odd_records_still_draw(tmp_path: Path, name: str) -> None:
    events = ODD_RECORDS[name]
    run = open_page(BROWSER, timeline.write_page(events, tmp_path / "odd.html"))
    assert run.errors == 0 and run.console == [], run.error_text or run.console
    assert run.body.get("ready") == "1"
    assert int(run.body["arrows"]) == len(rpcs(events))


def test_a_two_minute_run_with_20000_rpcs_opens_within_its_budget(tmp_path: Path) -> None:
    """Under 10 MB, and parsed and drawn within 3 s of the browser starting to load it."""
    events = records.large()
    page = timeline.write_page(events, tmp_path / "large.html")
    assert page.stat().st_size < 10_000_000
    run = open_page(BROWSER, page)
    assert run.errors == 0 and run.console == [], run.error_text or run.console
    assert int(run.body["arrows"]) == len(rpcs(events)) >= 20_000
    assert float(run.body["loadms"]) < 3000, run.body
