"""raft-grade's command line: grading is the default, `bundle` and `try-bundle` are
subcommands, and the old spellings still work, warning with the new one's name.

The jobs themselves (grading.grade, bundle.build, bundle.try_bundle) are
replaced by recorders here: these tests check what each spelling asks for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

from labstaff import bundle, grade, grading
from labstaff.isolation import Isolation

SOLUTION = Path(__file__).resolve().parents[2] / "src" / "raft" / "raft.py"
Calls = Dict[str, List[tuple]]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """What the jobs were asked to do; none of them runs."""
    seen: Calls = {"grade": [], "build": [], "try": []}

    def fake_grade(submission: Path, parts: List[str], runs: int, *rest: object,
                   **options: object) -> grading.Grading:
        seen["grade"].append((submission, parts, runs))
        return grading.Grading()

    monkeypatch.setattr(grading, "grade", fake_grade)
    monkeypatch.setattr(bundle, "build", lambda out, options: seen["build"].append(
        (out, options)) or 0)
    monkeypatch.setattr(bundle, "try_bundle", lambda zipped, submission: seen["try"].append(
        (zipped, submission)) or 0)
    monkeypatch.setattr(Isolation, "for_this_process",
                        classmethod(lambda cls, name=None: cls(None, "off in this test")))
    return seen


def test_a_submission_first_is_a_grading_run(tmp_path: Path, calls: Calls,
                                             capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "results.json"
    assert grade.main([str(SOLUTION), "--parts", "2A,2B", "--parts", "2D", "--runs", "2",
                       "--out", str(out)]) == 0
    assert calls["grade"] == [(SOLUTION, ["2A", "2B", "2D"], 2)]
    assert out.is_file() and not calls["build"] and not calls["try"]
    assert "deprecated" not in capsys.readouterr().err


def test_the_old_part_option_grades_the_same_and_warns(tmp_path: Path, calls: Calls,
                                                       capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "results.json"
    assert grade.main([str(SOLUTION), "--part", "2B", "--part", "2A", "--out", str(out)]) == 0
    assert calls["grade"] == [(SOLUTION, ["2A", "2B"], 1)]
    err = capsys.readouterr().err
    assert "raft-grade: warning: --part is deprecated" in err and "use --parts" in err


BUNDLE_OPTIONS = ["--runs", "2", "--test-timeout", "30", "--visibility", "hidden",
                  "--leaderboard", "--reference", "earlier.json", "--sim-seeds", "3"]


def test_the_bundle_subcommand_builds_with_the_options(tmp_path: Path, calls: Calls,
                                                       capsys: pytest.CaptureFixture) -> None:
    zipped = tmp_path / "autograder.zip"
    assert grade.main(["bundle", str(zipped), "--parts", "2A,2B", *BUNDLE_OPTIONS]) == 0
    ((out, options),) = calls["build"]
    assert out == zipped and options.parts == ["2A", "2B"]
    assert options.tests == grading.tests_of(["2A", "2B"])
    assert (options.runs, options.test_timeout, options.visibility, options.sim_seeds) == \
        (2, 30.0, "hidden", 3)
    assert options.leaderboard and options.reference == Path("earlier.json")
    assert not calls["grade"] and "deprecated" not in capsys.readouterr().err


def test_the_old_bundle_option_builds_the_same_and_warns(tmp_path: Path, calls: Calls,
                                                         capsys: pytest.CaptureFixture) -> None:
    zipped = tmp_path / "autograder.zip"
    assert grade.main(["bundle", str(zipped), "--parts", "2A,2B", *BUNDLE_OPTIONS]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert grade.main(["--bundle", str(zipped), "--part", "2A", "--part", "2B",
                       *BUNDLE_OPTIONS]) == 0
    (_, new), (_, old) = calls["build"]
    assert old == new and not calls["grade"]
    err = capsys.readouterr().err
    assert "--bundle is deprecated" in err and "use: raft-grade bundle OUT.zip" in err


def test_try_bundle_and_its_old_spellings_run_the_same(tmp_path: Path, calls: Calls,
                                                       capsys: pytest.CaptureFixture) -> None:
    zipped = tmp_path / "autograder.zip"
    zipped.write_bytes(b"")
    assert grade.main(["try-bundle", str(zipped), str(SOLUTION)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert grade.main(["--try-bundle", str(zipped), str(SOLUTION)]) == 0
    assert grade.main([str(SOLUTION), "--try-bundle", str(zipped)]) == 0
    assert calls["try"] == [(zipped, SOLUTION)] * 3 and not calls["grade"]
    err = capsys.readouterr().err
    assert err.count("--try-bundle is deprecated") == 2
    assert "use: raft-grade try-bundle ZIP SUBMISSION" in err


@pytest.mark.parametrize("args, message", [
    (["bundle"], "the following arguments are required: OUT.zip"),
    (["bundle", "{tmp}/a.zip", "--parts", "2A,2E"], "--parts: unknown part '2E'"),
    (["bundle", "{tmp}/a.zip", "--test", "TestNothing2A"], "no such test: TestNothing2A"),
    (["bundle", "{tmp}/a.zip", "--reference", "r.json"], "--reference goes with --leaderboard"),
    (["try-bundle", "{tmp}/none.zip", "{solution}"], "no bundle at"),
    (["try-bundle", "{tmp}/a.zip", "{tmp}/nothing"], "no submission at"),
    (["{solution}", "--leaderboard"], "--leaderboard and --reference go with a bundle"),
    (["{solution}", "--parts", "2A", "--runs", "0"], "--runs must be at least 1"),
    (["--bundle", "{tmp}/a.zip", "--try-bundle", "{tmp}/a.zip"], "use `raft-grade bundle`"),
], ids=lambda value: None if isinstance(value, list) else value.split(":")[0].replace(" ", "-"))
# (ids without a test's name: `pytest -k 2A` selects the Go tests of 2A alone)
def test_mistakes_are_usage_errors_and_run_nothing(tmp_path: Path, calls: Calls,
                                                   capsys: pytest.CaptureFixture,
                                                   args: List[str], message: str) -> None:
    (tmp_path / "a.zip").write_bytes(b"")
    with pytest.raises(SystemExit) as exited:
        grade.main([arg.format(tmp=tmp_path, solution=SOLUTION) for arg in args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert calls == {"grade": [], "build": [], "try": []}


def test_the_help_names_the_subcommands_not_the_old_options(
        capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        grade.main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "raft-grade bundle OUT.zip" in shown and "raft-grade try-bundle ZIP" in shown
    assert "--bundle" not in shown and "--try-bundle" not in shown
