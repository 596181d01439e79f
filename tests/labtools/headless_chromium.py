"""Open a page in Debian's chromium, headless, and see what it drew.

    browser = find_chromium()                 None when chromium is not installed
    result = open_page(browser, page, screenshot=None)
    result.body["arrows"], result.errors, result.console, result.seconds

The page's script writes what it drew into <body data-*> and counts its own
errors in <html data-errors> (and #page-errors); chromium's --dump-dom prints
the DOM once the page has loaded (the page draws before its load event), and
--enable-logging=stderr prints every console message as an "INFO:CONSOLE" line.
A fresh profile folder a run, and no network: the flags turn off everything
chromium would fetch by itself.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--disable-dev-shm-usage",   # a container's /dev/shm is small
]
WINDOW = (1400, 900)


@dataclass
class PageRun:
    dom: str
    stderr: str
    seconds: float
    body: Dict[str, str]
    errors: int
    error_text: str
    console: List[str]


def find_chromium() -> Optional[str]:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _attributes(tag: str) -> Dict[str, str]:
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', tag))


def _run(command: List[str], timeout: float) -> "tuple[str, str]":
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise RuntimeError(f"chromium did not finish within {timeout:.0f} s: {command}")
    return out, err


def open_page(browser: str, page: Path, screenshot: Optional[Path] = None,
              window: "tuple[int, int]" = WINDOW, timeout: float = 90.0) -> PageRun:
    """Load page; return its DOM after load, what it drew, and its errors."""
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="timeline-chromium-") as profile:
        base = [browser, *FLAGS, f"--user-data-dir={profile}",
                f"--window-size={window[0]},{window[1]}", "--enable-logging=stderr", "--v=0"]
        t0 = time.monotonic()
        dom, err = _run(base + ["--dump-dom", url], timeout)
        seconds = time.monotonic() - t0
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            _run(base + [f"--screenshot={Path(screenshot).resolve()}", url], timeout)
    body = re.search(r"<body[^>]*>", dom)
    root = re.search(r"<html[^>]*>", dom)
    errors = int(_attributes(root.group(0)).get("errors", 0)) if root else 0
    box = re.search(r'<pre id="page-errors">(.*?)</pre>', dom, re.S)
    return PageRun(
        dom=dom, stderr=err, seconds=seconds,
        body=_attributes(body.group(0)) if body else {},
        errors=errors, error_text=box.group(1) if box else "",
        console=[line for line in err.splitlines() if ":CONSOLE" in line],
    )
