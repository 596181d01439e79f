"""A Gradescope bundle, built and run as Gradescope runs it, on good and broken submissions.

One bundle (one 2A test, short timeouts, weights, a leaderboard) is built
and set up once in a temporary $AUTOGRADER_ROOT; each test then puts a
submission in it, runs run_autograder and reads results/results.json.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from labstaff import bundle, results

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "src" / "raft" / "raft.py"
MAKE = "    rf = Raft(peers, me, persister, applyCh)\n"
TEST = "TestInitialElection2A"
TEST_TIMEOUT = 10
POINTS = 10
REFERENCE_RPCS, REFERENCE_BYTES = 50, 10000


def solution_with(tmp_path: Path, name: str, patch: str, before: str = MAKE) -> Path:
    """A folder holding the solution's raft.py with `patch` put before `before`."""
    text = SOLUTION.read_text()
    assert text.count(before) == 1
    folder = tmp_path / name
    folder.mkdir()
    (folder / "raft.py").write_text(text.replace(before, patch + before))
    return folder


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An $AUTOGRADER_ROOT with the bundle unpacked into source/ and setup.sh run."""
    work = tmp_path_factory.mktemp("gradescope")
    weights = work / "weights.json"
    weights.write_text(json.dumps({"2A": POINTS}))
    # The leaderboard's reference, as an earlier grading of the solution
    # would give it (measuring it here would add a real-time run to every setup).
    reference = work / "reference.json"
    reference.write_text(json.dumps({"tests": [{
        "name": TEST, "status": "passed",
        "output": f"**Passed**\n\n```\n  ... Passed --   3.0  3   {REFERENCE_RPCS}   "
                  f"{REFERENCE_BYTES}    0\n```"}]}))
    zipped = work / "autograder.zip"
    built = subprocess.run(
        [sys.executable, "-m", "labstaff.grade", "bundle", str(zipped), "--test", TEST,
         "--test-timeout", str(TEST_TIMEOUT), "--total-timeout", "60",
         "--weights", str(weights), "--visibility", "after_due_date", "--leaderboard",
         "--reference", str(reference)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    top = work / "autograder"
    bundle.unpack(zipped, top)
    bundle.setup(top)
    yield top


def grade(root: Path, submission: Path) -> Tuple[Dict[str, Any], float, str]:
    data, seconds, output = bundle.run(root, submission)
    assert results.check(data) == []
    config = json.loads((root / "source" / "config.json").read_text())
    assert seconds < config["hard_stop"]
    return data, seconds, output


def only_test(data: Dict[str, Any]) -> Dict[str, Any]:
    (test,) = data["tests"]
    assert test["max_score"] == POINTS and test["output_format"] == "md"
    assert test["visibility"] == "after_due_date" and test["number"] == "1.1"
    return test


def test_the_zip_holds_executable_scripts_with_lf_endings(root: Path) -> None:
    for name in ("setup.sh", "run_autograder"):
        script = root / "source" / name
        assert script.stat().st_mode & 0o111
        assert b"\r" not in script.read_bytes()
    wheels = {p.name.split("-")[0] for p in (root / "source" / "wheels").glob("*.whl")}
    assert {"pyraft_lab", "pytest", "pytest_timeout", "pluggy", "iniconfig", "packaging",
            "exceptiongroup", "tomli", "pip"} <= wheels
    # The installed raft.py is the starter: the solution never goes to Gradescope.
    installed = list((root / "raft-venv").rglob("site-packages/raft/raft.py"))
    assert installed and "SOLUTION" not in installed[0].read_text()
    assert "Your code here (2A)" in installed[0].read_text()


def test_the_solution_earns_full_marks_and_a_leaderboard(root: Path, tmp_path: Path) -> None:
    data, _, output = grade(root, SOLUTION)
    test = only_test(data)
    assert data["score"] == POINTS and test["status"] == "passed", test["output"]
    assert test["output"].startswith("**Passed**") and "... Passed --" in test["output"]
    assert f"[1/1] {TEST}" in output  # progress while grading
    board = {entry["name"]: entry["value"] for entry in data["leaderboard"]}
    assert board["Tests passed"] == 1
    used = results.figures(test["output"])
    assert used is not None
    assert board["RPCs (% of reference)"] == round(100 * used[0] / REFERENCE_RPCS, 1)
    # The reference is this same Raft: its counts vary with timing only (split
    # votes), so the percentages are near 100 but not exactly.
    assert 0 < board["RPCs (% of reference)"] < 1000
    assert 0 < board["Bytes (% of reference)"] < 1000


def test_the_starter_earns_nothing_and_says_why(root: Path, tmp_path: Path) -> None:
    tree = tmp_path / "starter"
    done = subprocess.run([sys.executable, "-m", "labstaff.starter", str(tree)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    data, _, _ = grade(root, tree)  # the whole tree: src/raft/raft.py is found in it
    test = only_test(data)
    assert data["score"] == 0
    assert test["output"].startswith("**Failed:** expected one leader, got none")


def test_a_syntax_error_is_named_with_its_line(root: Path, tmp_path: Path) -> None:
    folder = solution_with(tmp_path, "syntax", "    if True\n")
    data, _, _ = grade(root, folder)
    test = only_test(data)
    assert data["score"] == 0
    first = test["output"].splitlines()[0]
    assert "raft.py cannot be imported: SyntaxError" in first
    assert 'raft.py", line' in test["output"] and "if True" in test["output"]


def test_a_hang_shows_where_it_is_stuck(root: Path, tmp_path: Path) -> None:
    folder = solution_with(tmp_path, "hang", "    stuck = threading.Lock()\n"
                                             "    stuck.acquire()\n"
                                             "    stuck.acquire()\n")
    data, seconds, _ = grade(root, folder)
    test = only_test(data)
    assert data["score"] == 0
    first = test["output"].splitlines()[0]
    # Make waits for a lock it holds itself: the lock watchdog names the line.
    assert "lock watchdog:" in first and "in Make: stuck.acquire()" in first
    assert seconds < TEST_TIMEOUT + 15


def test_megabytes_of_output_stay_out_of_results(root: Path, tmp_path: Path) -> None:
    folder = solution_with(tmp_path, "chatty", "    print('x' * 2_000_000)\n"
                                               "    for _ in range(20000):\n"
                                               "        print('chatter ' * 10)\n")
    data, _, output = grade(root, folder)
    only_test(data)
    assert data["score"] == POINTS
    assert (root / "results" / "results.json").stat().st_size < 64_000
    assert len(output) < 64_000


def test_megabytes_in_a_failure_are_cut(root: Path, tmp_path: Path) -> None:
    folder = solution_with(tmp_path, "chatty_failure",
                           "    print('x' * 3_000_000)\n    raise IndexError('boom')\n")
    data, _, _ = grade(root, folder)
    test = only_test(data)
    assert data["score"] == 0
    assert test["output"].startswith("**Failed:** ")
    assert "IndexError: boom" in test["output"]
    assert (root / "results" / "results.json").stat().st_size < 64_000


def test_threads_left_behind_are_named(root: Path, tmp_path: Path) -> None:
    folder = solution_with(tmp_path, "leak", (
        "    def _forever() -> None:\n"
        "        while True:\n"
        "            time.sleep(0.05)\n"
        "    threading.Thread(target=_forever, name='student-loop', daemon=True).start()\n"
    ))
    data, _, _ = grade(root, folder)
    test = only_test(data)
    assert data["score"] == 0
    assert "still running" in test["output"].splitlines()[0]
    assert "student-loop" in test["output"].splitlines()[0]


def test_a_passed_test_whose_process_will_not_exit_says_where_it_is(
        root: Path, tmp_path: Path) -> None:
    folder = solution_with(tmp_path, "stuck_exit", (
        "    import atexit\n"
        "    atexit.register(lambda: time.sleep(1000))  # the process never ends\n"
    ))
    data, _, _ = grade(root, folder)
    test = only_test(data)
    assert data["score"] == 0
    first = test["output"].splitlines()[0]
    assert "the test passed, but its process had not exited 15 s later; where it was: " \
        in first, first
    assert "raft/raft.py line " in first and "in <lambda>: atexit.register(lambda: " \
        "time.sleep(1000))" in first, first


def test_a_zip_of_a_repository_is_graded(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    with zipfile.ZipFile(folder / "repo.zip", "w") as repo:
        repo.writestr("pyraft-lab-main/README.md", "my lab\n")
        repo.writestr("pyraft-lab-main/old/raft.py", "def Make(:\n")  # not the one to grade
        repo.writestr("pyraft-lab-main/src/raft/raft.py", SOLUTION.read_text())
        repo.writestr("../../escape/raft.py", "def Make(:\n")  # a name pointing outside
    data, _, _ = grade(root, folder)
    assert data["score"] == POINTS, data["tests"][0]["output"]
    assert not (tmp_path / "escape").exists() and not (root.parent / "escape").exists()


def test_no_raft_py_is_a_failed_test_saying_what_to_upload(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("I forgot the code\n")
    data, _, _ = grade(root, folder)
    (test,) = data["tests"]
    assert data["score"] == 0 and test["max_score"] == POINTS
    assert "no raft.py in your submission" in test["output"] and "notes.txt" in test["output"]


def test_a_crash_of_the_grader_still_gives_results(root: Path) -> None:
    config = root / "source" / "config.json"
    saved = config.read_text()
    config.write_text(json.dumps({"hard_stop": 120}))  # every other option missing
    try:
        data, _, _ = grade(root, SOLUTION)
    finally:
        config.write_text(saved)
    (test,) = data["tests"]
    assert data["score"] == 0 and test["status"] == "failed"
    assert "the autograder itself failed" in test["output"]


def test_a_grader_that_cannot_start_still_gives_results(root: Path) -> None:
    python = root / "raft-venv" / "bin" / "python"
    hidden = python.with_name("python.hidden")
    python.rename(hidden)
    try:
        data, _, _ = grade(root, SOLUTION)
    finally:
        hidden.rename(python)
    (test,) = data["tests"]
    assert data["score"] == 0 and test["max_score"] == POINTS
    assert "before writing results" in test["output"]


def test_try_bundle_prints_the_results(root: Path) -> None:
    zipped = root.parent / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "labstaff.grade", "try-bundle", str(zipped),
                           str(SOLUTION)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{TEST}" in done.stdout and f"score {POINTS} of {POINTS}" in done.stdout


def python_310() -> "Path | None":
    """A working python3.10 binary here, if any (Gradescope's image has 3.10)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which("python3.10"), *sorted(pyenv.glob("versions/3.10*/bin/python3.10"))]
    for candidate in candidates:
        if candidate is None:
            continue
        done = subprocess.run([str(candidate), "-c", "import sys; print(sys.executable); "
                               "sys.exit(sys.version_info[:2] != (3, 10))"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return Path(done.stdout.strip())
    return None


@pytest.mark.skipif(python_310() is None, reason="no python3.10 here")
def test_the_bundle_grades_on_python_310(root: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    older = tmp_path / "image" / "bin"
    older.mkdir(parents=True)
    (older / "python3").symlink_to(python_310())
    monkeypatch.setenv("PATH", f"{older}{os.pathsep}{os.environ['PATH']}")
    top = tmp_path / "autograder"
    bundle.unpack(root.parent / "autograder.zip", top)
    bundle.setup(top)
    assert list((top / "raft-venv" / "lib").glob("python3.10/site-packages/exceptiongroup"))
    data, _, _ = grade(top, SOLUTION)
    assert data["score"] == POINTS
    folder = solution_with(tmp_path, "handler", "    raise IndexError('too far')\n")
    data, _, _ = grade(top, folder)
    assert data["score"] == 0 and "IndexError: too far" in data["tests"][0]["output"]


def test_a_plain_install_grades(tmp_path: Path) -> None:
    """pip install . (not editable): the grader finds the tests inside the package."""
    venv = tmp_path / "venv"
    had_build = (REPO / "build").exists()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(REPO),
                                "pytest", "pytest-timeout"],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    out = tmp_path / "results.json"
    done = subprocess.run([str(venv / "bin" / "raft-grade"), str(SOLUTION), "--test", TEST,
                           "--out", str(out)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(out.read_text())["score"] == 1
    if not had_build:  # what pip's build left in the tree
        shutil.rmtree(REPO / "build", ignore_errors=True)


def test_the_hard_stop_still_gives_results_and_ends_the_test(root: Path, tmp_path: Path) -> None:
    """run_autograder's `timeout` sends SIGTERM: results say so, no test process is left."""
    folder = solution_with(tmp_path, "stuck", "    time.sleep(600)\n")
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.copytree(folder, root / "submission")
    out = root / "results" / "results.json"
    out.unlink(missing_ok=True)
    grader = subprocess.Popen([str(root / "raft-venv" / "bin" / "python"), "-I", "-m",
                               "labstaff.autograder"], cwd=root,
                              env=dict(os.environ, AUTOGRADER_ROOT=str(root)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert grader.stdout is not None
    assert grader.stdout.readline().startswith("grading ")
    time.sleep(3.0)  # past the import check: the test process is in its sleep
    grader.send_signal(signal.SIGTERM)
    grader.communicate(timeout=30)
    data = json.loads(out.read_text())
    assert results.check(data) == []
    assert "stopped after" in data["tests"][0]["output"] and data["score"] == 0
    left = subprocess.run(["pgrep", "-f", str(root / "raft-venv")], capture_output=True,
                          text=True)
    assert left.stdout.strip() == ""


@pytest.mark.parametrize("args, message", [
    (["try-bundle", "{tmp}/nothing.zip", "{tmp}"], "no bundle at"),
    (["try-bundle", "{tmp}/fake.zip", "{tmp}"], "is not a zip file"),
    (["--try-bundle", "{tmp}/fake.zip", "{tmp}"], "is not a zip file"),
    (["--leaderboard", "{tmp}"], "--leaderboard and --reference go with a bundle"),
    (["--bundle", "{tmp}/a.zip", "--try-bundle", "{tmp}/fake.zip", "{tmp}"],
     "use `raft-grade bundle` to build a bundle or `raft-grade try-bundle` to run one"),
    (["bundle", "{tmp}/a.zip", "--weights", "{tmp}/fake.zip"], "cannot read weights"),
    (["--bundle", "{tmp}/a.zip", "--weights", "{tmp}/fake.zip"], "cannot read weights"),
])
def test_bundle_mistakes_are_named(tmp_path: Path, args: List[str], message: str) -> None:
    (tmp_path / "fake.zip").write_text("not a zip")
    done = subprocess.run([sys.executable, "-m", "labstaff.grade",
                           *[arg.format(tmp=tmp_path) for arg in args]],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert not (tmp_path / "a.zip").exists()
