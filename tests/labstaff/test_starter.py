"""raft-starter: the student's tree, cut from the solution to the parts a course chose."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from labstaff import grade, grading, handout
from labstaff.leaks import find_leaks, readme_figures, solution_names, staff_pages
from labstaff.parts import read_record
from labstaff.starter import MarkError, cut
from labstaff.testcut import cut_tests, titles_of
from labtools.parts import PARTS

REPO = Path(__file__).resolve().parents[2]
SOLUTION = (REPO / "src/raft/raft.py").read_text()
SOLUTION_README = staff_pages(REPO)
GO_TESTS = (REPO / "src/raft/test_raft.py").read_text()
CHOICES = [list(PARTS[:n]) for n in range(1, len(PARTS) + 1)]


def starter(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labstaff.starter", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=120)


def exported(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "starter"
    made = starter(str(out), *args)
    assert made.returncode == 0, made.stderr
    assert f"--parts-from {out}" in made.stdout
    return out


def clean_env() -> dict:
    """The environment a student's shell would have: none of this venv's."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS", "RAFT_DEBUG", "RAFT_RACE")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(sys.prefix))
    return env


def handout_failure(readme: str, test: str) -> List[str]:
    """The failure the handout pastes: from the test's ___ header to its last next step."""
    lines = readme.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^    _+ {test} _+$", line))
    end = next(i for i in range(start, len(lines)) if "the run as a page:" in lines[i])
    return [line[4:] for line in lines[start:end + 1]]


def test_an_election_only_tree_installed_as_its_readme_says_fails_only_its_election_tests(
        tmp_path: Path) -> None:
    """The judged path: export 2A, follow the handout, run pytest."""
    tree = exported(tmp_path, "--parts", "2A")
    assert not find_leaks(tree, SOLUTION, SOLUTION_README)
    readme = (tree / "README.md").read_text()
    install = [line.strip() for line in readme.splitlines()
               if line.startswith("    ") and "pip install" in line]
    assert len(install) == 1, install
    assert "    pytest\n" in readme

    result = subprocess.run(["bash", "-c", f"{install[0]} >/dev/null && pytest"],
                            capture_output=True, text=True, cwd=tree, env=clean_env(),
                            timeout=300)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    # The three 2A tests fail as the assignment shows; no other Raft test is
    # collected; the lab's own tests of labgob, labrpc and logview pass.
    failed = re.findall(r"^FAILED (\S+)", out, flags=re.MULTILINE)
    assert sorted(failed) == sorted(f"src/raft/test_raft.py::{name}" for name in
                                    ("TestInitialElection2A", "TestReElection2A",
                                     "TestManyElections2A")), out
    # Each failure's own message, cause first: pytest's E line, the Go
    # tester's --- FAIL line, and the short summary (pytest cuts it at the
    # terminal's width: 80 columns here).
    messages = re.findall(r"^E\s+expected one leader, got none$", out, flags=re.MULTILINE)
    assert len(messages) == 3, out
    fails = re.findall(r"^--- FAIL: Test\w+2A: expected one leader, got none$", out,
                       flags=re.MULTILINE)
    assert len(fails) == 3, out
    assert "FAILED src/raft/test_raft.py::TestReElection2A - expected one leader, got none" \
        in out
    # and each ends with what to run next
    assert out.count("raft-stress --sim -k Test") == 3, out
    # The handout shows this very failure, as pytest prints it.
    shown = handout_failure(readme, "TestReElection2A")
    assert len(shown) > 10 and "\n".join(shown) in out, "\n".join(shown)
    summary = out.strip().splitlines()[-1]
    assert re.match(r"=+ 3 failed, \d+ passed in ", summary), summary
    collected = subprocess.run(
        ["bash", "-c", ". .venv/bin/activate && pytest --collect-only -q"],
        capture_output=True, text=True, cwd=tree, env=clean_env(), timeout=120).stdout
    raft_tests = [line for line in collected.splitlines() if line.startswith("src/raft/")]
    assert len(raft_tests) == 3 and all(line.endswith("2A") for line in raft_tests), collected


# Ids by how many parts, so that `pytest -k 2A` selects only the lab's tests.
@pytest.mark.parametrize("parts", CHOICES, ids=[f"{len(c)}-parts" for c in CHOICES])
def test_each_choice_of_parts_gives_its_tests_skeleton_and_handout_and_nothing_more(
        tmp_path: Path, parts: List[str]) -> None:
    tree = exported(tmp_path, "--parts", ",".join(parts))
    others = [part for part in PARTS if part not in parts]

    assert not find_leaks(tree, SOLUTION, SOLUTION_README)
    assert not (tree / "src/labstaff").exists() and not (tree / "benchmarks").exists()
    assert "labstaff" not in (tree / "setup.cfg").read_text()
    assert read_record(tree) == parts

    tests = (tree / "src/raft/test_raft.py").read_text()
    names = list(titles_of(tests))
    assert names == [name for name in titles_of(GO_TESTS) if name[-2:] in parts]
    # Every test kept is the Go port's own text, unchanged.
    original = {node.name: ast.get_source_segment(GO_TESTS, node)
                for node in ast.parse(GO_TESTS).body if isinstance(node, ast.FunctionDef)}
    for node in ast.parse(tests).body:
        if isinstance(node, ast.FunctionDef):
            assert ast.get_source_segment(tests, node) == original[node.name]
    if parts == list(PARTS):
        assert tests == GO_TESTS

    skeleton = (tree / "src/raft/raft.py").read_text()
    readme = (tree / "README.md").read_text()
    for text in (skeleton, readme, tests):
        for part in others:
            assert part not in text
    for part in parts:
        assert f"## Part {part}:" in readme
    for name in names:
        assert f"- `{name}`" in readme
    assert "(2A" in skeleton and "SOLUTION" not in skeleton and "STARTER:" not in skeleton
    # The tree is valid and lint-clean under its own settings.
    lint = subprocess.run([sys.executable, "-m", "flake8", "src", "tests"], cwd=tree,
                          capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout


def test_a_tree_without_a_part_says_which_skeleton_methods_to_leave_alone(
        tmp_path: Path) -> None:
    readme = (exported(tmp_path, "--parts", "2A") / "README.md").read_text()
    assert "need nothing of `Start`, `Snapshot`, `persist` or `readPersist`" in readme
    assert "Part 2A: leader election" in readme and "`TestReElection2A`" in readme


def test_the_course_text_is_appended_to_the_handout(tmp_path: Path) -> None:
    extra = tmp_path / "course.md"
    extra.write_text("## Handing in\n\nUpload raft.py to the course site by Friday.\n")
    readme = (exported(tmp_path, "--handout-extra", str(extra)) / "README.md").read_text()
    assert readme.endswith("## Handing in\n\nUpload raft.py to the course site by Friday.\n")
    missing = starter(str(tmp_path / "other"), "--handout-extra", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "--handout-extra: cannot read" in missing.stderr


@pytest.mark.parametrize("planted, named", [
    ("Call self._become_leader_locked() when you win.", "_become_leader_locked"),
    ("Use election timeouts of 250-400 milliseconds.", "ELECTION_TIMEOUT_MIN_S"),
    ("Send a heartbeat every 100 ms.", "HEARTBEAT_INTERVAL_S"),
    ("Expect:\n\n      ... Passed --   3.1  3   58   11892    0\n", "a figure of the solution"),
    ("The 2A tests: 13.6 s wall.", "a figure of the solution"),
    ("One lock per peer, never held across an RPC, a sleep or a put on `applyCh`; "
     "rules run under the lock and never block.", "the solution README's sentence"),
    ("Your grade comes from raft-grade.", "names 'raft-grade', the staff's"),
    ("Timings: see benchmarks/half_cpu.py.", "names 'benchmarks/', the staff's"),
], ids=["method", "timeouts", "heartbeat", "passed-line", "wall-time", "sentence", "grader",
        "benchmarks"])
def test_a_leak_is_refused_naming_it_and_nothing_is_written(
        tmp_path: Path, planted: str, named: str) -> None:
    extra = tmp_path / "course.md"
    extra.write_text(planted + "\n")
    out = tmp_path / "starter"
    result = starter(str(out), "--parts", "2A", "--handout-extra", str(extra))
    assert result.returncode == 2
    assert "would hold the solution's secrets" in result.stderr
    assert "README.md:" in result.stderr and named in result.stderr, result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".starter-")]


def test_leak_check_sees_names_and_values_in_any_file_of_the_tree(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/helper.py").write_text("x = 1\n\n\ndef f(rf):\n    rf._replicate_locked()\n")
    (tmp_path / "notes.md").write_text("heartbeats: 0.100 s apart\n")
    # A tool of the lab may define a name of its own that the solution uses
    # too: not a leak there, but one in raft.py.
    (tmp_path / "src/tool.py").write_text("def _run():\n    pass\n\n\n_run()\n")
    (tmp_path / "src/raft.py").write_text("# call self._run() here\n")
    leaks = [str(leak) for leak in find_leaks(tmp_path, SOLUTION, SOLUTION_README)]
    assert leaks == [
        "notes.md:1: '0.100': the solution's HEARTBEAT_INTERVAL_S",
        "src/helper.py:5: names _replicate_locked, defined in the solution's raft.py",
        "src/raft.py:1: names _run, defined in the solution's raft.py",
    ]
    # What is checked for: the solution's own names, not the paper's.
    names = solution_names(SOLUTION)
    assert {"LogEntry", "_become_leader_locked", "HEARTBEAT_INTERVAL_S"} <= names
    assert not names & {"AppendEntries", "InstallSnapshot", "RequestVote", "GetState"}
    passed, measured = readme_figures(SOLUTION_README)
    assert "3.1 3 58 11892 0" in passed and "13.6 s" in measured


def test_leak_check_refuses_the_grader_s_files_and_the_staff_s_names(tmp_path: Path) -> None:
    (tmp_path / "src/labtest").mkdir(parents=True)
    (tmp_path / "src/labtest/verdict.py").write_text("x = 1\n")
    (tmp_path / "src/integrity.py").write_text("")
    (tmp_path / "setup.cfg").write_text("[a]\nb = 1\n\n[c]\nd = labstaff.grade:main\n")
    (tmp_path / "src/labtest/tool.py").write_text(
        "# like raft-starter does\nBENCH = 'benchmarks/x.py'\n")
    (tmp_path / "src/labtest/fine.py").write_text("# a benchmark of the grader: no name\n")
    leaks = sorted(str(leak) for leak in find_leaks(tmp_path, SOLUTION, SOLUTION_README))
    assert leaks == [
        "setup.cfg:5: names 'labstaff', the staff's",
        "src/integrity.py:0: a file of the grader's: never the student's",
        "src/labtest/tool.py:1: names 'raft-starter', the staff's",
        "src/labtest/tool.py:2: names 'benchmarks/', the staff's",
        "src/labtest/verdict.py:0: a file of the grader's: never the student's",
    ]


def test_the_exported_tree_names_no_staff_tool(tmp_path: Path) -> None:
    """As `raft-starter OUT --parts 2A; grep -r` would look: not one staff name or file."""
    tree = exported(tmp_path, "--parts", "2A")
    files = [path for path in tree.rglob("*") if path.is_file()]
    assert files and (tree / "setup.cfg") in files
    for path in files:
        assert path.name not in ("verdict.py", "integrity.py"), path
        data = path.read_bytes()
        for word in (b"raft-grade", b"raft-starter", b"labstaff", b"benchmarks/"):
            assert word not in data, f"{path.relative_to(tree)} names {word.decode()}"


def test_a_choice_of_parts_is_validated_with_a_clear_error(tmp_path: Path) -> None:
    result = starter(str(tmp_path / "out"), "--parts", "2B")
    assert result.returncode == 2
    assert "--parts: part 2B builds on 2A" in result.stderr
    assert not (tmp_path / "out").exists()


def test_skeleton_comments_keep_only_the_chosen_parts() -> None:
    solution = (
        "def f():\n"
        "    # STARTER: # Your code here (2A, 2C).\n"
        "    # STARTER: # Your code here (2C).\n"
        "    # STARTER: # Example: save it\n"
        "    # STARTER: x = 1\n"
        "    # STARTER: # Your code here, if desired.\n"
        "    # SOLUTION BEGIN\n"
        "    y = 2\n"
        "    # SOLUTION END\n"
    )
    assert cut(solution, parts=["2A", "2B"]) == (
        "def f():\n    # Your code here (2A).\n    x = 1\n    # Your code here, if desired.\n"
    )
    assert cut(solution) == (
        "def f():\n    # Your code here (2A, 2C).\n    # Your code here (2C).\n"
        "    # Example: save it\n    x = 1\n    # Your code here, if desired.\n"
    )


def test_the_tests_cut_keeps_the_helpers_a_test_needs_and_no_unused_import() -> None:
    two_c = cut_tests(GO_TESTS, ["2A", "2B", "2C"])
    assert "def internalChurn(" in two_c and "def rand_int(" in two_c
    assert "snapcommon" not in two_c and "MAXLOGSIZE" not in two_c
    assert "SnapShotInterval" not in two_c
    two_a = cut_tests(GO_TESTS, ["2A"])
    assert "import threading" not in two_a and "randstring" not in two_a
    assert "from raft.config import RaftElectionTimeout, make_config\n" in two_a


def test_marks_that_do_not_pair_up_are_errors_naming_the_line() -> None:
    with pytest.raises(MarkError, match=r"raft.py:2: # SOLUTION BEGIN is never closed"):
        cut("x = 1\n# SOLUTION BEGIN\ny = 2\n")
    with pytest.raises(MarkError, match=r"raft.py:1: # SOLUTION END without"):
        cut("# SOLUTION END\n")
    solution = (
        "def f():\n    # STARTER: b = 2\n    # SOLUTION BEGIN\n    c = 3\n    # SOLUTION END\n"
    )
    assert cut(solution) == "def f():\n    b = 2\n"


def test_export_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = starter(str(tmp_path))
    assert result.returncode == 2 and "exists and is not an empty folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


TEMPLATE = """\
<!-- note: for editors -->
# Lab {{parts}}
<!-- part: 2B -->
Log text.
<!-- /part -->
<!-- without: 2B -->
Election only.
<!-- /without -->
Run it<!-- feature: sim --> (or `pytest --sim`)<!-- /feature -->.
<!-- feature: sim timeline -->
<!-- part: 2B -->
Nested.
<!-- /part -->
<!-- /feature -->
"""


def test_handout_blocks_follow_parts_and_features() -> None:
    def render(parts: List[str], features: set) -> str:
        return handout.render(parts, features, {}, "", template=TEMPLATE)

    assert render(["2A"], set()) == "# Lab 2A\nElection only.\nRun it.\n"
    assert render(["2A", "2B"], {"sim"}) == (
        "# Lab 2A, 2B\nLog text.\nRun it (or `pytest --sim`).\nNested.\n"
    )
    with pytest.raises(handout.HandoutError, match="unknown feature 'simm'"):
        handout.render(["2A"], set(), {}, "", template="<!-- feature: simm -->x<!-- /feature -->")
    with pytest.raises(handout.HandoutError, match="never closed"):
        handout.render(["2A"], set(), {}, "", template="<!-- part: 2A -->x")
    with pytest.raises(handout.HandoutError, match=r"unknown placeholder \{\{part\}\}"):
        handout.render(["2A"], set(), {}, "", template="{{part}}")


def test_a_feature_is_there_when_the_tree_defines_its_option(tmp_path: Path) -> None:
    (tmp_path / "src/labsim").mkdir(parents=True)
    (tmp_path / "src/labsim/plugin.py").write_text(
        'def pytest_addoption(parser):\n    parser.addoption("--sim", action="store_true")\n'
        '    parser.addoption("--sim-seed", type=int)\n')
    assert handout.features_of(tmp_path) == {"sim"}
    readme = handout.render(["2A"], {"sim"}, {}, SOLUTION)
    assert "### The simulation: pytest --sim" in readme
    assert "### The timeline" not in readme and "### The race checker" not in readme


def test_the_grader_grades_the_parts_a_tree_records(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "setup.cfg").write_text("[metadata]\nname = x\n")
    submission = tmp_path / "raft.py"
    submission.write_text("")
    out = tmp_path / "results.json"
    no_record = subprocess.run(
        [sys.executable, "-m", "labstaff.grade", str(submission), "--parts-from", str(tree),
         "--out", str(out)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert no_record.returncode == 2
    assert "--parts-from: " in no_record.stderr and "has no [raftlab] parts" in no_record.stderr

    from labstaff.parts import write_record
    write_record(tree / "setup.cfg", ["2A", "2B"])
    graded = []
    monkeypatch.setattr(grading, "grade", lambda sub, parts, *rest, **options:
                        graded.append(parts) or grading.Grading())
    assert grade.main([str(submission), "--parts-from", str(tree), "--out", str(out)]) == 0
    assert grade.main([str(submission), "--parts-from", str(tree), "--part", "2C",
                       "--out", str(out)]) == 0
    assert graded == [["2A", "2B"], ["2C"]]


def test_the_main_job_says_why_no_leader_is_elected_in_a_starter_tree(tmp_path: Path) -> None:
    tree = exported(tmp_path, "--parts", "2A")
    result = subprocess.run(
        [sys.executable, "-m", "labtools.demo", "--peers", "3", "--seconds", "2", "--interval", "1",
         "--down", "0.5"], capture_output=True, text=True, cwd=tree, timeout=60,
        env=dict(os.environ, PYTHONPATH=str(tree / "src")))
    assert result.returncode == 1, result.stderr
    assert ("no leader elected in 2 s: leader election (2A) is not implemented yet, "
            "or not working") in result.stdout
    assert "0 elections" not in result.stdout
