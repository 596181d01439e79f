"""labenv: every switch read one way; an option's value stays in its process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import labenv

NAME = "LABENV_TEST_SWITCH"


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.setattr(labenv, "_given", {})


@pytest.mark.parametrize("text, expected", [
    ("1", True), ("yes", True), ("anything", True), (" On ", True),
    ("0", False), ("false", False), ("No", False), (" OFF ", False),
    ("", None), ("   ", None)])
def test_a_switch_reads_on_off_and_unset_the_same_everywhere(
        monkeypatch: pytest.MonkeyPatch, text: str, expected: object) -> None:
    monkeypatch.setenv(NAME, text)
    assert labenv.switch(NAME) is expected
    assert labenv.enabled(NAME) is (expected is True)


def test_unset_is_none_and_off() -> None:
    assert labenv.switch(NAME) is None and not labenv.enabled(NAME)
    assert labenv.value_of(NAME) is None


def test_an_options_value_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, "0")
    labenv.give(NAME, "1")
    assert labenv.enabled(NAME) and labenv.value_of(NAME) == "1"


def test_an_implied_value_gives_way_to_the_environment_and_to_an_option(
        monkeypatch: pytest.MonkeyPatch) -> None:
    labenv.give_default(NAME, "1")
    assert labenv.value_of(NAME) == "1"
    labenv.give(NAME, "0")
    labenv.give_default(NAME, "1")
    assert labenv.value_of(NAME) == "0"
    monkeypatch.setattr(labenv, "_given", {})
    monkeypatch.setenv(NAME, "0")
    labenv.give_default(NAME, "1")
    assert labenv.switch(NAME) is False


def test_a_given_value_stays_in_its_process() -> None:
    labenv.give(NAME, "1")
    assert NAME not in os.environ
    child = subprocess.run([sys.executable, "-c", f"import labenv; print(labenv.switch({NAME!r}))"],
                           capture_output=True, text=True, timeout=60)
    assert child.stdout.strip() == "None", child.stderr
