"""The student's README (the handout), assembled for one tree.

    render(parts, features, tests, skeleton, extra="")  -> the README's text
    features_of(tree)                                    -> the features tree has
    TEMPLATE                                             handout/README.md.in

The template is Markdown with blocks in HTML comments, so it reads as
the handout itself:

    <!-- part: 2B 2C --> ... <!-- /part -->      kept if any part named is assigned
    <!-- without: 2D --> ... <!-- /without -->   kept if none of them is
    <!-- feature: sim --> ... <!-- /feature -->  kept if the tree has the feature
    <!-- note: ... -->                           for the template's editors; dropped

Blocks nest, and may sit inside a line. A feature is the text about a
tool that may or may not be in the tree (the simulation, the monitors,
the timeline are being built as this is written): the tree has it when
its source defines the pytest option the text teaches (FEATURES), so the
handout never teaches an option the student's tree lacks.

Placeholders: {{parts}} ("2A, 2B"), {{part_list}} (a line a part, with
its title), {{tests:2A}} (that part's tests, with the title each prints),
{{untouched}} (the skeleton's methods that ask for no code in this tree:
"`Start`, `Snapshot` or `persist`").
An unknown block, feature, part or placeholder is a HandoutError naming
it: a typo must not silently drop or keep a paragraph.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Sequence, Set

from labtools.parts import PARTS, TITLES

TEMPLATE = Path(__file__).resolve().parent / "README.md.in"

# feature -> the pytest option (or the command's name) whose definition in
# the tree's source shows it is there.
FEATURES = {
    "race": "--race",
    "sim": "--sim",
    "monitors": "--no-monitors",
    "timeline": "--timeline",
    "chaos": "raft-chaos",
}
# The skeleton's methods a student may be asked to fill in.
INTERFACE = ("GetState", "Start", "Snapshot", "persist", "readPersist", "RequestVote", "ticker")
ASKS_FOR_CODE = re.compile(r"# Your (code|data) here")

MARK = re.compile(
    r"(?P<line>^[ \t]*)?<!--\s*(?P<close>/)?(?P<kind>[a-z]+)(?::(?P<arg>.*?))?\s*-->"
    r"(?(line)[ \t]*\n?)",
    re.MULTILINE | re.DOTALL,
)
PLACEHOLDER = re.compile(r"\{\{(?P<name>[a-z_]+)(?::(?P<arg>[^}]*))?\}\}")
BLOCKS = ("part", "without", "feature")


class HandoutError(ValueError):
    """The template is malformed or names something unknown."""


def features_of(tree: Path) -> Set[str]:
    """The features whose pytest option the tree's source defines."""
    source = "\n".join(path.read_text() for path in sorted((tree / "src").rglob("*.py")))
    return {name for name, option in FEATURES.items()
            if re.search(r"""["']""" + re.escape(option) + r"""["']""", source)}


def untouched_methods(skeleton: str) -> List[str]:
    """The interface methods whose skeleton asks for no code (their parts are not assigned)."""
    lines = skeleton.splitlines()
    untouched = []
    for cls in ast.walk(ast.parse(skeleton)):
        if not isinstance(cls, ast.ClassDef):
            continue
        methods = [node for node in cls.body if isinstance(node, ast.FunctionDef)]
        # A method's text runs to the next method: a comment after its last
        # statement ("# Your code here (2C).") is still its own.
        ends = [node.lineno - 1 for node in methods[1:]] + [cls.end_lineno or len(lines)]
        for node, end in zip(methods, ends):
            body = "\n".join(lines[node.lineno - 1:end])
            if node.name in INTERFACE and not ASKS_FOR_CODE.search(body):
                untouched.append(node.name)
    return [name for name in INTERFACE if name in untouched]


def _keep(kind: str, arg: str, parts: Sequence[str], features: Set[str]) -> bool:
    names = arg.replace(",", " ").split()
    if not names:
        raise HandoutError(f"<!-- {kind}: --> names nothing")
    if kind == "feature":
        unknown = [n for n in names if n not in FEATURES]
        if unknown:
            raise HandoutError(f"unknown feature {unknown[0]!r} (known: {', '.join(FEATURES)})")
        return any(n in features for n in names)
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        raise HandoutError(f"unknown part {unknown[0]!r} in <!-- {kind}: -->")
    named = any(n in parts for n in names)
    return named if kind == "part" else not named


def _select(template: str, parts: Sequence[str], features: Set[str]) -> str:
    """The template with its blocks kept or dropped and every mark removed."""
    out: List[str] = []
    stack: List[tuple] = []  # (kind, kept)
    position = 0
    for mark in MARK.finditer(template):
        if all(kept for _, kept in stack):
            out.append(template[position:mark.start()])
        position = mark.end()
        kind = mark.group("kind")
        line = template.count("\n", 0, mark.start()) + 1
        if kind == "note":
            continue
        if kind not in BLOCKS:
            raise HandoutError(f"template line {line}: unknown block <!-- {kind} -->")
        if mark.group("close"):
            if not stack or stack[-1][0] != kind:
                raise HandoutError(f"template line {line}: <!-- /{kind} --> closes nothing")
            stack.pop()
        else:
            stack.append((kind, _keep(kind, mark.group("arg") or "", parts, features)))
    if stack:
        raise HandoutError(f"<!-- {stack[-1][0]}: --> is never closed")
    out.append(template[position:])
    return "".join(out)


def _test_list(tests: Dict[str, str], part: str) -> str:
    rows = [f"- `{name}`" + (f": {title.split(': ', 1)[-1]}" if title else "")
            for name, title in tests.items() if name.endswith(part)]
    return "\n".join(rows)


def render(parts: Sequence[str], features: Set[str], tests: Dict[str, str], skeleton: str,
           extra: str = "", template: str = "") -> str:
    """The handout for a tree that assigns parts, has features and holds tests.

    tests maps each test's name to the title it prints; skeleton is the
    tree's raft.py; extra (the course's own text) goes at the end.
    """
    text = _select(template or TEMPLATE.read_text(), parts, features)

    def fill(match: "re.Match[str]") -> str:
        name, arg = match.group("name"), match.group("arg")
        if name == "parts":
            return ", ".join(parts)
        if name == "part_list":
            return "\n".join(f"- Part {part}: {TITLES[part]}" for part in parts)
        if name == "tests" and arg in parts:
            return _test_list(tests, arg)
        if name == "untouched":
            methods = [f"`{m}`" for m in untouched_methods(skeleton)] or ["no method"]
            return ", ".join(methods[:-1]) + " or " + methods[-1] if len(methods) > 1 \
                else methods[0]
        raise HandoutError(f"unknown placeholder {match.group(0)}")

    text = PLACEHOLDER.sub(fill, text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    if extra.strip():
        text += "\n" + extra.strip() + "\n"
    return text
