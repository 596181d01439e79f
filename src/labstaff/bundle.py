"""A Gradescope autograder zip that grades with baked options, and a dry run of it.

    raft-grade bundle autograder.zip --parts 2A,2B --runs 1 \\
               [--weights weights.json] [--visibility visible] [--leaderboard]
    raft-grade try-bundle autograder.zip path/to/submission

(labstaff.grade parses those; this module does the work.)

The zip holds, at its root:
    setup.sh         Gradescope runs it once, building the image: makes a venv
                     in $AUTOGRADER_ROOT/raft-venv with the image's python3
                     (3.10 or newer; the image's own python3 is left as it was)
                     and installs the wheels below, offline
    run_autograder   run for each submission: grades $AUTOGRADER_ROOT/submission
                     and always leaves a valid results/results.json
    config.json      the options baked in (parts, tests, runs, timeouts, weights,
                     visibility, the leaderboard's reference figures)
    wheels/          this package (raft.py in it cut to the starter: the
                     solution never goes to Gradescope), pytest, pytest-timeout
                     and their dependencies (those Python 3.10 needs too), and pip

try-bundle does what Gradescope does, in a temporary $AUTOGRADER_ROOT:
unpack into source/, copy the submission into submission/, run setup.sh,
then run_autograder, and print results.json's tests.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from labstaff import grading, results
from labstaff.skeleton import cut

DISTRIBUTION = "pyraft-lab"
# The grader's sandbox needs every lab package; the wheel holds them and the grader.
WHEEL_PACKAGES = grading.LAB_PACKAGES
# What setup.sh installs beside this package; pinned to the versions here.
TEST_REQUIREMENTS = ("pytest", "pytest-timeout")
# pytest's dependencies on Python 3.10 only (markers a download for this
# interpreter would skip), and pip, which setup.sh runs from its wheel.
EXTRA_WHEELS = ("exceptiongroup", "tomli", "typing_extensions", "pip")
VENV = "raft-venv"
# run_autograder's hard stop beyond the grading budget: room to start up, to
# kill the last test (grading.EXIT_GRACE_S) and to check the import (30 s).
HARD_STOP_MARGIN_S = 60

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image.
# Installs the Raft grader into its own venv, offline, from ./wheels.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

PY="$(command -v python3 || true)"
if [ -z "$PY" ]; then
    apt-get update -q && apt-get install -y -q python3
    PY="$(command -v python3)"
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: the grader needs Python 3.10 or newer; $PY is $("$PY" -V 2>&1)" >&2
    exit 1
fi

# --without-pip: Ubuntu's python3 has no ensurepip unless python3-venv is
# installed; pip runs from its wheel instead.
rm -rf "$ROOT/{venv}"
"$PY" -m venv --without-pip "$ROOT/{venv}"
"$ROOT/{venv}/bin/python" "$HERE/wheels/{pip_wheel}/pip" install --quiet --no-index \\
    --no-cache-dir --find-links "$HERE/wheels" {requirements}
"$ROOT/{venv}/bin/python" -I -c "import labstaff.autograder, pytest, pytest_timeout"
echo "setup.sh: the Raft grader is installed in $ROOT/{venv}"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission: grade it, write results.json.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
export AUTOGRADER_ROOT="$ROOT"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
# Never from the submission's folder: a raft.py there would hide the package.
cd "$ROOT"
timeout -k 10 {hard_stop} "$ROOT/{venv}/bin/python" -I -m labstaff.autograder
status=$?
if [ ! -s "$RESULTS" ]; then
    # The grader did not get as far as writing results (killed at the hard
    # stop, or could not start): say so in a valid results.json.
    cat > "$RESULTS.tmp" <<EOF
{{"score": 0, "execution_time": {hard_stop},
 "output": "The autograder could not grade this submission.",
 "tests": [{{"name": "Grading", "score": 0, "max_score": {max_score},
   "status": "failed", "visibility": "visible", "output_format": "md",
   "output": "**Failed:** the grader stopped (status $status) before writing results."
 }}]}}
EOF
    mv "$RESULTS.tmp" "$RESULTS"
fi
exit 0
"""


@dataclass
class Options:
    """What a bundle grades with (raft-grade's options)."""

    parts: List[str]
    tests: List[str]
    runs: int = 1
    test_timeout: float = 120.0
    total_timeout: float = 600.0
    weights: Optional[Dict[str, float]] = None
    visibility: str = "visible"
    leaderboard: bool = False
    reference: Optional[Path] = None
    reference_figures: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    sim_seeds: int = 0  # each test under the simulation, seeds 1..N (same score on regrade)


class BundleError(RuntimeError):
    """A bundle could not be built or run; the message says which step and why."""


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel(into: Path) -> Path:
    """A wheel of this package as installed (editable or not), raft.py cut to the starter."""
    dist = importlib.metadata.distribution(DISTRIBUTION)
    version = dist.version
    name = f"{DISTRIBUTION.replace('-', '_')}-{version}"
    files: Dict[str, bytes] = {}
    for package in WHEEL_PACKAGES:
        top = grading.PACKAGE_ROOT / package
        for path in sorted(top.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[path.relative_to(grading.PACKAGE_ROOT).as_posix()] = path.read_bytes()
    files["raft/raft.py"] = cut(files["raft/raft.py"].decode()).encode()
    info = f"{name}.dist-info"
    files[f"{info}/METADATA"] = (dist.read_text("METADATA") or "").encode()
    files[f"{info}/entry_points.txt"] = (dist.read_text("entry_points.txt") or "").encode()
    files[f"{info}/top_level.txt"] = ("\n".join(WHEEL_PACKAGES) + "\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: labstaff.bundle\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = into / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as out:
        for path, data in files.items():
            out.writestr(path, data)
    return wheel


def download_wheels(into: Path) -> List[str]:
    """pytest, pytest-timeout (the versions here) and what they need on 3.10+; pip."""
    pinned = []
    for requirement in TEST_REQUIREMENTS:
        try:
            pinned.append(f"{requirement}=={importlib.metadata.version(requirement)}")
        except importlib.metadata.PackageNotFoundError:
            pinned.append(requirement)
    for target in ("3.10", f"{sys.version_info.major}.{sys.version_info.minor}"):
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                   "--python-version", target, "--implementation", "py", "--abi", "none",
                   "--platform", "any", "--dest", str(into), *pinned, *EXTRA_WHEELS]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise BundleError(
                "could not download the test dependencies' wheels (pip download needs a "
                f"package index):\n{' '.join(command)}\n{done.stderr.strip()}"
            )
    return pinned


def measure_reference(options: Options) -> Dict[str, Tuple[int, int]]:
    """RPCs and bytes of each test, run with this package's own Raft."""
    if options.reference is not None:
        data = json.loads(options.reference.read_text())
        figures = {}
        for test in data.get("tests", []):
            found = results.figures(test.get("output", ""))
            if found and test.get("status") == "passed":
                figures[test["name"]] = found
        missing = [name for name in options.tests if name not in figures]
        if missing:
            raise BundleError(f"{options.reference} has no Passed line for {', '.join(missing)}")
        return figures
    solution = grading.PACKAGE_ROOT / "raft" / "raft.py"
    print(f"measuring the reference for the leaderboard: {len(options.tests)} tests of "
          f"{solution}", file=sys.stderr, flush=True)
    graded = grading.grade(solution, options.parts, 1, options.test_timeout,
                           options.total_timeout, options.tests,
                           progress=grading.print_progress)
    figures = {o.name: results.figures(o.output) for o in graded.outcomes if o.passed}
    failed = [o.name for o in graded.outcomes if not figures.get(o.name)]
    if failed:
        raise BundleError(f"the reference Raft failed {', '.join(failed)}: no leaderboard "
                          "figures (give --reference RESULTS.json from a good run)")
    return {name: found for name, found in figures.items() if found}


def _add_file(out: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    out.writestr(info, data)


def build(out: Path, options: Options) -> int:
    """Write the autograder zip; print what it grades."""
    if options.leaderboard:
        options.reference_figures = measure_reference(options)
    with tempfile.TemporaryDirectory(prefix="raft-bundle-") as scratch:
        wheels = Path(scratch)
        build_wheel(wheels)
        pinned = download_wheels(wheels)
        pip_wheel = next(p.name for p in wheels.glob("pip-*.whl"))
        max_score = sum(results.points(options.tests, options.weights).values())
        hard_stop = int(options.total_timeout + HARD_STOP_MARGIN_S)
        config: Dict[str, Any] = {
            "parts": options.parts, "tests": options.tests, "runs": options.runs,
            "test_timeout": options.test_timeout, "total_timeout": options.total_timeout,
            "weights": options.weights, "visibility": options.visibility,
            "reference": ({k: list(v) for k, v in options.reference_figures.items()}
                          if options.leaderboard else None),
            "hard_stop": hard_stop, "sim_seeds": options.sim_seeds,
        }
        setup = SETUP_SH.format(venv=VENV, pip_wheel=pip_wheel,
                                requirements=" ".join([DISTRIBUTION, *pinned]))
        run = RUN_AUTOGRADER.format(venv=VENV, hard_stop=hard_stop, max_score=max_score)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w") as bundle:
            _add_file(bundle, "setup.sh", setup.encode(), executable=True)
            _add_file(bundle, "run_autograder", run.encode(), executable=True)
            _add_file(bundle, "config.json", (json.dumps(config, indent=2) + "\n").encode())
            for wheel in sorted(wheels.glob("*.whl")):
                _add_file(bundle, f"wheels/{wheel.name}", wheel.read_bytes())
        os.replace(partial, out)
    parts = sorted({results.part_of(name) for name in options.tests})
    print(f"wrote {out}: {len(options.tests)} test(s) of {', '.join(parts)}, "
          f"{options.runs} run(s) each, {options.test_timeout:.0f} s a test, "
          f"{options.total_timeout:.0f} s in all (hard stop {hard_stop} s), "
          f"{max_score:g} points, visibility {options.visibility}"
          f"{', leaderboard' if options.leaderboard else ''}"
          f"{f', simulated with seeds 1-{options.sim_seeds}' if options.sim_seeds else ''}")
    print("upload it as the autograder of a Gradescope programming assignment; "
          "docs/grading.md's 'Gradescope settings' says which to choose")
    return 0


def unpack(bundle: Path, root: Path) -> None:
    """Gradescope's first step: the zip's files in $root/source, modes kept."""
    source = root / "source"
    source.mkdir(parents=True)
    try:
        zipped = zipfile.ZipFile(bundle)
    except zipfile.BadZipFile as err:
        raise BundleError(f"{bundle} is not a zip file: {err}") from None
    with zipped:
        for info in zipped.infolist():
            target = source / info.filename
            if source.resolve() not in target.resolve().parents:
                raise BundleError(f"{bundle}: {info.filename!r} points outside the bundle")
            zipped.extract(info, source)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
    if not (source / "setup.sh").is_file() or not (source / "run_autograder").is_file():
        raise BundleError(f"{bundle} has no setup.sh and run_autograder at its root: "
                          "not an autograder bundle")


def setup(root: Path) -> float:
    """Run setup.sh as Gradescope does; returns its seconds."""
    t0 = time.monotonic()
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source",
                          env=dict(os.environ, AUTOGRADER_ROOT=str(root)),
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BundleError(f"setup.sh failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return time.monotonic() - t0


def run(root: Path, submission: Path) -> Tuple[Dict[str, Any], float, str]:
    """One submission through run_autograder: (results.json, seconds, its output)."""
    target = root / "submission"
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    if submission.is_dir():
        shutil.copytree(submission, target)
    else:
        target.mkdir()
        shutil.copyfile(submission, target / submission.name)
    # Gradescope copies run_autograder out of source/ before running it.
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    config = json.loads((root / "source" / "config.json").read_text())
    t0 = time.monotonic()
    done = subprocess.run([str(root / "run_autograder")], cwd=root,
                          env=dict(os.environ, AUTOGRADER_ROOT=str(root)),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=config["hard_stop"] + 30)
    seconds = time.monotonic() - t0
    data = json.loads((root / "results" / "results.json").read_text())
    problems = results.check(data)
    if problems:
        raise BundleError("results.json is not what Gradescope accepts: " + "; ".join(problems))
    return data, seconds, done.stdout


def try_bundle(bundle: Path, submission: Optional[Path]) -> int:
    """Unpack, set up and run the bundle on a submission in a temporary root; print it."""
    if submission is None or not submission.exists():
        raise BundleError(f"try-bundle needs a submission (a file or a folder), "
                          f"got {submission}")
    with tempfile.TemporaryDirectory(prefix="raft-autograder-") as scratch:
        root = Path(scratch)
        unpack(bundle, root)
        print(f"setup.sh: {setup(root):.1f} s", flush=True)
        data, seconds, output = run(root, submission)
    print(output.rstrip())
    print(summary(data, seconds))
    return 0


def summary(data: Dict[str, Any], seconds: float) -> str:
    rows = [f"{t.get('number', ''):5} {t['name']:32} {t['score']:>6g}/{t['max_score']:<6g} "
            f"{t['output'].splitlines()[0] if t.get('output') else ''}"
            for t in data["tests"]]
    total = sum(t["max_score"] for t in data["tests"])
    rows.append(f"results.json: score {data['score']:g} of {total:g}, run_autograder took "
                f"{seconds:.1f} s")
    for entry in data.get("leaderboard", []):
        rows.append(f"leaderboard: {entry['name']} = {entry['value']}")
    return "\n".join(rows)
