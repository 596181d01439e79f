"""The staff's pages (README.md, docs/*.md) held to the code they describe.

    pytest tests/test_docs.py

1. Every relative link resolves: to a file that exists and, for a
   `page.md#anchor` or `#anchor` link, to a heading of that page (anchors
   made as GitHub makes them).
2. Every command quoted in a code block or inline code exists: a `raft-*`
   command is a console script of setup.cfg, `python -m MODULE` names a
   runnable module; and every option quoted right after such a command, or
   after `pytest`, is one the command's `--help` lists (arguments after a
   lone `--` go to pytest, as raft-stress passes them on).
3. README.md is a front page: under 250 lines, and its first screen says
   whom this tree is for and that students get raft-starter's instead.

Each check is a function that returns what it found wrong, so the last
test can plant a broken page in tmp_path and see every kind reported.
"""

from __future__ import annotations

import configparser
import functools
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
README_LIMIT = 250
FIRST_SCREEN = 25
HELP_TIMEOUT_S = 120

# Words that look like a console command but name something else: the
# grader's sandbox user.
NOT_COMMANDS = {"raft-sandbox"}
COMMAND = re.compile(r"raft-[a-z]+(?:-[a-z]+)*")
# raft-grade's subcommands (`raft-grade bundle OUT.zip ...`). They are being
# added beside the --bundle/--try-bundle options; until the installed
# raft-grade knows one (its `SUB --help` prints "usage: raft-grade SUB"),
# its options cannot be read and are not checked, so this test does not fail
# before that change lands.
SUBCOMMANDS = {"raft-grade": ("bundle", "try-bundle")}
# Options the shared spelling promises and a pending change adds: raft-grade's
# `--parts 2A,2B` (it has `--part` now). Accepted only while the installed
# command lacks them; once it has them this entry changes nothing.
PROMISED = {"raft-grade": {"--parts"}}
OPTION = re.compile(r"--?[A-Za-z][\w-]*")


# -- the pages ---------------------------------------------------------------

def pages(root: Path) -> List[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _blocks(text: str) -> Iterator[Tuple[str, str]]:
    """("code", line) for each line of a code block, and ("prose", paragraph)
    for each paragraph or table row outside them."""
    paragraph: List[str] = []
    fenced = False
    in_code = False
    previous_blank = True
    for line in text.splitlines() + [""]:
        if line.lstrip().startswith("```"):
            fenced = not fenced
            previous_blank = False
            continue
        indented = line.startswith("    ") and (previous_blank or in_code) and not paragraph
        if fenced or (indented and line.strip()):
            in_code = True
            yield "code", line
        elif not line.strip():
            previous_blank = True
            if paragraph:
                yield "prose", " ".join(paragraph)
            paragraph = []
            continue
        elif line.startswith(("|", "#")):  # a table row or a heading: a block of its own
            in_code = False
            if paragraph:
                yield "prose", " ".join(paragraph)
            paragraph = []
            yield "prose", line
        else:
            in_code = False
            paragraph.append(line.strip())
        previous_blank = False


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> Set[str]:
    found: Set[str] = set()
    seen: Dict[str, int] = {}
    for kind, block in _blocks(text):
        heading = re.match(r"#{1,6}\s+(.*)", block) if kind == "prose" else None
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


# -- 1. links ------------------------------------------------------------------

def broken_links(root: Path) -> List[str]:
    problems = []
    for page in pages(root):
        text = page.read_text()
        for kind, block in _blocks(text):
            if kind != "prose":
                continue
            for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", block)):
                if re.match(r"[a-z]+:", target):
                    continue  # http:, mailto: and the like
                path, _, anchor = target.partition("#")
                linked = (page.parent / path).resolve() if path else page
                where = f"{page.relative_to(root)}: link {target}"
                if not linked.exists():
                    problems.append(f"{where}: no file {linked}")
                elif anchor and linked.suffix == ".md" and anchor not in anchors(
                        linked.read_text()):
                    problems.append(f"{where}: no heading #{anchor} in {linked.name}")
    return problems


# -- 2. commands and options ------------------------------------------------------

def console_scripts(root: Path) -> Dict[str, str]:
    setup = configparser.ConfigParser()
    setup.read(root / "setup.cfg")
    entries = setup["options.entry_points"]["console_scripts"]
    return dict((name.strip(), target.strip()) for name, target in
                (line.split("=", 1) for line in entries.splitlines() if "=" in line))


def _help_options(text: str) -> Set[str]:
    """The options a --help text lists (the first column of its option lines)."""
    options = set()
    for line in text.splitlines():
        if line.lstrip().startswith("-"):
            spec = re.split(r"\s{2,}", line.strip())[0]
            options.update(re.findall(r"(?:^|, )(--?[A-Za-z0-9][\w-]*)", spec))
    return options


@functools.lru_cache(maxsize=None)
def _help(argv: Tuple[str, ...], root: Path) -> str:
    done = subprocess.run([sys.executable, *argv, "--help"], capture_output=True, text=True,
                          cwd=root, timeout=HELP_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} --help exited {done.returncode}: "
                           f"{done.stderr[-500:]}")
    return done.stdout


def _script_argv(name: str, target: str, *args: str) -> Tuple[str, ...]:
    module, function = target.split(":")
    return ("-c", f"import sys; from {module} import {function} as main; "
            f"sys.argv[0] = {name!r}; sys.exit(main())", *args)


def _module_exists(module: str, root: Path) -> bool:
    """Can `python -m module` run? The lab's own modules are looked for as
    files (a package needs its __main__.py); others (venv, pip) by import."""
    top = module.split(".")[0]
    bases = [base for base in (root, root / "src")
             if (base / top).is_dir() or (base / f"{top}.py").is_file()]
    if not bases:
        return importlib.util.find_spec(module) is not None
    relative = Path(*module.split("."))
    return any((base / relative).with_suffix(".py").is_file()
               or (base / relative / "__main__.py").is_file() for base in bases)


def _commands(text: str) -> Iterator[str]:
    """Every command line quoted in a page: code-block lines (with their
    continuations) and inline code, cut at pipes, && and ;."""
    pending = ""
    for kind, block in _blocks(text):
        if kind == "code":
            line = re.sub(r"(^|\s)#.*$", "", block).strip()
            # A line that goes on (\) or a usage's next line of [--options].
            if pending and (line.startswith(("[", "-")) or pending.endswith("\\")):
                pending = pending.rstrip("\\") + " " + line
                continue
            if pending:
                yield pending
            pending = line
            continue
        if pending:
            yield pending
            pending = ""
        yield from re.findall(r"`([^`]+)`", block)
    if pending:
        yield pending


def _words(command: str) -> List[str]:
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words.pop(0)  # RAFT_DEBUG=1 and the like
    return words


class Commands:
    """What the installed commands accept, read once from their --help."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scripts = console_scripts(root)

    def options(self, argv: Tuple[str, ...]) -> Set[str]:
        return _help_options(_help(argv, self.root))

    def script_options(self, name: str, sub: str = "") -> Optional[Set[str]]:
        """The options of a console command (or of one of its subcommands;
        None when the installed command does not know that subcommand)."""
        args = (sub,) if sub else ()
        text = _help(_script_argv(name, self.scripts[name], *args), self.root)
        if sub and not re.search(rf"^usage: {name} {sub}\b", text, re.M):
            return None
        return _help_options(text)

    def pytest_options(self) -> Set[str]:
        return self.options(("-m", "pytest"))

    def problems(self, command: str) -> List[str]:
        """What is wrong with one quoted command line ([] if nothing, or if
        it is not a command this test knows)."""
        problems: List[str] = []
        for part in re.split(r"\|\|?|&&|;", command):
            problems += self._part_problems(_words(part))
        return problems

    def _part_problems(self, words: List[str]) -> List[str]:
        if not words:
            return []
        head = words[0].rsplit("/", 1)[-1]  # .venv/bin/pytest is pytest; raft-venv/ a folder
        if COMMAND.fullmatch(head) and head not in NOT_COMMANDS:
            if head not in self.scripts:
                return [f"{head} is not a console script of setup.cfg"]
            rest = words[1:]
            sub = rest[0] if rest and rest[0] in SUBCOMMANDS.get(head, ()) else ""
            known = self.script_options(head, sub)
            if known is None:
                return []  # a subcommand not installed yet (see SUBCOMMANDS)
            if not sub:
                known = known | PROMISED.get(head, set())
            return self._unknown(f"{head} {sub}".strip(), rest[1 if sub else 0:], known)
        if head == "pytest":
            return self._unknown("pytest", words[1:], self.pytest_options())
        if head.startswith("python") and len(words) > 2 and words[1] == "-m":
            module = words[2]
            if module == "pytest":
                return self._unknown("pytest", words[3:], self.pytest_options())
            if any(part.isupper() for part in module.split(".")):
                return []  # a placeholder: benchmarks.NAME
            if not _module_exists(module, self.root):
                return [f"python -m {module}: no such runnable module"]
            if any(OPTION.fullmatch(w.strip("[]").split("=")[0]) for w in words[3:]):
                return self._unknown(f"python -m {module}", words[3:],
                                     self.options(("-m", module)))
        return []

    def _unknown(self, name: str, args: List[str], known: Set[str]) -> List[str]:
        problems = []
        for i, word in enumerate(args):
            if word == "--":  # the rest goes to pytest
                return problems + self._unknown("pytest", args[i + 1:], self.pytest_options())
            option = word.strip("[]").split("=")[0]
            if OPTION.fullmatch(option) and option not in known:
                problems.append(f"{name}: no option {option}")
        return problems


def command_problems(root: Path, commands: Commands) -> List[str]:
    problems = []
    for page in pages(root):
        for command in _commands(page.read_text()):
            problems += [f"{page.relative_to(root)}: `{command}`: {problem}"
                         for problem in commands.problems(command)]
    return problems


# -- 3. the front page ---------------------------------------------------------------

def front_page_problems(root: Path) -> List[str]:
    lines = (root / "README.md").read_text().splitlines()
    problems = []
    if len(lines) >= README_LIMIT:
        problems.append(f"README.md has {len(lines)} lines; a front page has under "
                        f"{README_LIMIT} (move the detail into docs/)")
    first = " ".join(lines[:FIRST_SCREEN])
    for needed in ("solution", "raft-starter", "course staff", "maintainers"):
        if needed not in first:
            problems.append(f"README.md's first {FIRST_SCREEN} lines do not say {needed!r}")
    return problems


# -- the tests -------------------------------------------------------------------

def test_every_relative_link_resolves() -> None:
    assert broken_links(ROOT) == []


def test_every_quoted_command_and_option_exists() -> None:
    assert command_problems(ROOT, Commands(ROOT)) == []


def test_readme_is_a_front_page() -> None:
    assert front_page_problems(ROOT) == []


def test_the_checks_report_a_planted_broken_page(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# A page\n\n## Real heading\n")
    (tmp_path / "README.md").write_text(
        "# Front\n\n"
        "See [a page](docs/page.md#real-heading), [nothing](docs/missing.md),\n"
        "[a heading that is not there](docs/page.md#no-such-heading) and [here](#front).\n\n"
        "    raft-stress -k 2A --no-such-option -- -x --not-pytest\n"
        "    raft-nothing --help\n"
        "    python -m raft\n\n"
        "Inline: `pytest -k 2A --sim --bogus`, `raft-grade SUB --parts 2A`.\n"
        + "filler\n" * README_LIMIT)
    assert broken_links(tmp_path) == [
        f"README.md: link docs/missing.md: no file {tmp_path / 'docs' / 'missing.md'}",
        "README.md: link docs/page.md#no-such-heading: no heading #no-such-heading in page.md",
    ]
    problems = command_problems(tmp_path, Commands(ROOT))
    assert problems == [
        "README.md: `raft-stress -k 2A --no-such-option -- -x --not-pytest`: "
        "raft-stress: no option --no-such-option",
        "README.md: `raft-stress -k 2A --no-such-option -- -x --not-pytest`: "
        "pytest: no option --not-pytest",
        "README.md: `raft-nothing --help`: raft-nothing is not a console script of setup.cfg",
        "README.md: `python -m raft`: python -m raft: no such runnable module",
        "README.md: `pytest -k 2A --sim --bogus`: pytest: no option --bogus",
    ]
    lines = len((tmp_path / "README.md").read_text().splitlines())
    assert front_page_problems(tmp_path) == [
        f"README.md has {lines} lines; a front page has under {README_LIMIT} "
        "(move the detail into docs/)",
        "README.md's first 25 lines do not say 'solution'",
        "README.md's first 25 lines do not say 'raft-starter'",
        "README.md's first 25 lines do not say 'course staff'",
        "README.md's first 25 lines do not say 'maintainers'",
    ]
