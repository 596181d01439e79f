"""The parts table and the one spelling every command chooses parts with."""

from __future__ import annotations

import argparse

import pytest

from labtools.parts import PARTS, TITLES, PartsError, add_parts_option, named_parts, parse_parts


def test_every_part_has_a_title() -> None:
    assert set(TITLES) == set(PARTS) and PARTS == ("2A", "2B", "2C", "2D")


def test_named_parts_takes_any_parts_in_lab_order() -> None:
    assert named_parts(["2c", "2A"]) == ["2A", "2C"]
    assert named_parts(["2D,2B", "2B"]) == ["2B", "2D"]
    with pytest.raises(PartsError, match="unknown part '2E'"):
        named_parts(["2A,2E"])
    with pytest.raises(PartsError, match="no part chosen"):
        named_parts([" , "])


def test_parse_parts_wants_a_first_stretch_and_says_what_to_add() -> None:
    assert parse_parts(["2a", "2B"]) == ["2A", "2B"]
    assert parse_parts(["2B,2A", "2A"]) == ["2A", "2B"]
    with pytest.raises(PartsError, match=r"part 2C builds on 2B.*--parts 2A,2B,2C"):
        parse_parts(["2A,2C"])
    with pytest.raises(PartsError, match="unknown part '2E'"):
        parse_parts(["2E"])
    with pytest.raises(PartsError, match="no part chosen"):
        parse_parts([" , "])


def _parser(deprecated_part: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="some-tool")
    add_parts_option(parser, "the parts", deprecated_part=deprecated_part)
    return parser


def test_parts_is_a_repeatable_comma_list(capsys: pytest.CaptureFixture) -> None:
    args = _parser(False).parse_args(["--parts", "2A,2B", "--parts", "2C"])
    assert named_parts(args.parts) == ["2A", "2B", "2C"]
    assert capsys.readouterr().err == ""
    assert _parser(False).parse_args([]).parts is None


def test_the_old_part_option_still_counts_and_warns(capsys: pytest.CaptureFixture) -> None:
    args = _parser(True).parse_args(["--part", "2B", "--parts", "2A", "--part", "2C"])
    assert named_parts(args.parts) == ["2A", "2B", "2C"]
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("some-tool: warning: --part is deprecated")
    assert "use --parts" in warnings[0]
