"""The Go tests (src/raft/test_raft.py) cut down to the parts a course chose.

    cut_tests(source, ["2A"])   -> test_raft.py with the 2A tests only
    titles_of(source)           -> {"TestInitialElection2A": "Test (2A): initial election", ...}

A test belongs to the part its Go name ends with (TestReElection2A: 2A).
The cut keeps the chosen parts' tests, the module-level helpers they use
(followed through helpers that use helpers: internalChurn, snapcommon,
MAXLOGSIZE, rand_int), and of each import only the names still used, so
the file stays valid and flake8-clean. Everything kept is the original
text, in the original order; the module docstring is rewritten to name the
parts the file holds. With every part chosen the file is left as it is.
"""

from __future__ import annotations

import ast
import re
from typing import Dict, List, Sequence, Set, Union

from labtools.parts import PARTS, TITLES

TEST_NAME = re.compile(r"^Test\w*?(?P<part>2[A-D])$")
MAX_LINE = 99


def _defined_names(node: ast.stmt) -> List[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _used_names(node: ast.AST) -> Set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _first_line(node: ast.stmt, lines: Sequence[str]) -> int:
    """node's first line (1-based), with its decorators and the comments just above."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
    return first


def _docstring(original: str, parts: Sequence[str]) -> str:
    summary = original.strip().splitlines()[0]
    runs = "\n".join(
        f"`pytest -k {part}` runs the tests of part {part} ({TITLES[part]}), as "
        f"`go test -run {part}` does." for part in parts
    )
    return f'"""{summary}\n\n{runs}\n"""'


def _import_text(node: Union[ast.Import, ast.ImportFrom], keep: List[ast.alias]) -> str:
    names = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in keep]
    if isinstance(node, ast.Import):
        return "\n".join(f"import {name}" for name in names)
    head = f"from {'.' * node.level}{node.module or ''} import "
    line = head + ", ".join(names)
    if len(line) <= MAX_LINE:
        return line
    return head + "(\n" + "".join(f"    {name},\n" for name in names) + ")"


def cut_tests(source: str, parts: Sequence[str]) -> str:
    """source (the Go tests) with the tests of parts only, and what they need."""
    if set(parts) >= set(PARTS):
        return source
    tree = ast.parse(source)
    lines = source.splitlines()
    body = list(tree.body)
    docstring = ""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        docstring = _docstring(body[0].value.value, parts)
        body = body[1:]

    helpers: Dict[str, ast.stmt] = {}
    kept: Set[int] = set()
    for index, node in enumerate(body):
        for name in _defined_names(node):
            test = TEST_NAME.match(name)
            if test and test.group("part") in parts:
                kept.add(index)
            elif not test:
                helpers[name] = node
    # Follow what the kept tests use, and what that uses, among the helpers.
    pending = [body[i] for i in kept]
    while pending:
        for name in _used_names(pending.pop()):
            helper = helpers.pop(name, None)
            if helper is not None:
                kept.add(body.index(helper))
                pending.append(helper)
    used: Set[str] = set()
    for index in kept:
        used |= _used_names(body[index])

    imports: List[str] = []
    previous_end = None
    definitions: List[str] = []
    for index, node in enumerate(body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            keep = [a for a in node.names
                    if future or (a.asname or a.name).split(".")[0] in used]
            if keep:
                gap = previous_end is not None and node.lineno - previous_end > 1
                if gap and imports and imports[-1] != "":
                    imports.append("")
                imports.append(_import_text(node, keep))
            previous_end = node.end_lineno
        elif index in kept:
            first = _first_line(node, lines)
            definitions.append("\n".join(lines[first - 1:node.end_lineno]))
    while imports and imports[-1] == "":
        imports.pop()
    parts_text = [docstring, "\n".join(imports)] if docstring else ["\n".join(imports)]
    return "\n\n".join(parts_text) + "\n\n\n" + "\n\n\n".join(definitions) + "\n"


def titles_of(source: str) -> Dict[str, str]:
    """Each test's name and the title it prints ("Test (2A): initial election").

    The title is "" for a test that leaves it to a helper to choose
    (TestReliableChurn2C calls internalChurn, which picks one of two).
    """
    titles: Dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and TEST_NAME.match(node.name):
            titles[node.name] = next(
                (inner.value for inner in ast.walk(node)
                 if isinstance(inner, ast.Constant) and isinstance(inner.value, str)
                 and inner.value.startswith("Test (")), "")
    return titles
