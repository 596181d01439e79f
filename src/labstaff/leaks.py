"""Check that a student's tree holds nothing of the solution.

    find_leaks(tree, solution_raft, solution_readme) -> [Leak, ...]  (empty: clean)
    solution_names(raft_text)      names defined inside SOLUTION regions
    solution_values(raft_text)     the solution's timing constants: as prose writes them, literals
    staff_pages(repo_root)         README.md and docs/*.md as one text: the staff's pages
    readme_sentences(readme_text)  the staff pages' sentences
    readme_figures(readme_text)    their figures: Passed lines; timings
    staff_traces(tree)             the staff's tools, named or shipped

raft-starter runs this on every tree it writes and refuses a tree with a
leak, so no export can reach a student with one. What counts as a leak:

- a name defined inside a `# SOLUTION BEGIN/END` region of raft.py (a
  function, method, class or constant), as a whole word anywhere in the
  tree. The exceptions are the paper's own words, which the lab's harness
  and tools use on their own account: the RPCs AppendEntries and
  InstallSnapshot (Figures 2 and 13) and the three roles (logview's
  topics are FOLLOWER, CANDIDATE, LEADER); and, outside raft.py, a name
  the tree's own code defines too (a tool's `_run` is its own, not the
  solution's).
- a timing constant of the solution (a `NAME_S = 0.250` inside a region)
  in milliseconds ("250 ms") or as a range of a MIN/MAX pair ("250-400")
  anywhere, and as its literal (0.250) in raft.py and the Markdown files:
  the election timeouts and heartbeat interval a student must choose for
  themselves. (The harness's own code has literals of its own, 0.020 for
  a poll, 0.100 for a sleep, that say nothing of the solution.)
- a sentence of the solution's README or of its docs/ pages (eight words
  or more, code excluded) in the handout, any other Markdown or text file,
  or raft.py: those pages are the staff's and contributors' (how the
  solution works, its figures, the grader, the exporter), never the
  handout. (The docstrings
  of the lab's modules are the lab's own; they ship as they are.)
- a figure those pages quote: the numbers of a Passed line
  ("3.0 3 58 11892 0") anywhere, and measurements with a unit and a
  decimal or a range ("13.6 s", "292/360 ms") where sentences are looked
  for (in code, "1.5 s" is as likely an option's default).
- the staff's tools: a file named like the grader's anti-forgery plugin
  (verdict.py, integrity.py), and the names of the staff's commands, of
  their package and of the benchmarks' folder anywhere in any text file.
  The tree is the student's; how it is graded and what the solution
  measures stay with the staff.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Set, Tuple

from labstaff.skeleton import BEGIN, END

# The paper's words, which the lab uses apart from the solution (see above).
PAPER_NAMES = {"AppendEntries", "InstallSnapshot", "FOLLOWER", "CANDIDATE", "LEADER"}
SENTENCE_WORDS = 8
# Where sentences and literals are looked for, with raft.py: the handout
# and the like. (Code has literals and docstrings of its own.)
PROSE = (".md", ".rst", ".txt", ".in")
PASSED = re.compile(r"Passed --\s+(?P<figures>[\d.]+(?:\s+\d+){4})")
TABLE_FIGURES = re.compile(r"^\d+\.\d+(?: \d+){4}$")
# "13.6 s", "292/360 ms", "21-38 s", "0.5 s CPU": a measurement, not a rule
# of the lab (those are whole seconds: "120 s", "5 s").
MEASUREMENT = re.compile(
    r"(?<![\w.])(?:\d+\.\d+|\d+(?:\.\d+)?[-/]\d+(?:\.\d+)?) ?(?:ms|us|s)\b"
)
# The grader's plugin files, and the words that name the staff's tools.
STAFF_FILES = ("verdict.py", "integrity.py")
STAFF_WORDS = re.compile(r"raft-grade|raft-starter|labstaff|benchmarks/")


@dataclass(frozen=True)
class Leak:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _regions(text: str) -> List[Tuple[int, int]]:
    """The (first, last) line numbers of each SOLUTION region."""
    regions, opened = [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == BEGIN:
            opened = number
        elif line.strip() == END:
            regions.append((opened, number))
    return regions


def _solution_nodes(text: str) -> Iterator[ast.AST]:
    regions = _regions(text)

    def inside(node: ast.AST) -> bool:
        return any(first < node.lineno < last for first, last in regions)

    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                             ast.Assign, ast.AnnAssign)) and inside(node):
            yield node


def solution_names(text: str) -> Set[str]:
    """Functions, methods, classes and module constants defined in SOLUTION regions."""
    names: Set[str] = set()
    tree = ast.parse(text)
    module_level = {(n.lineno, type(n).__name__) for n in tree.body}
    for node in _solution_nodes(text):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif (node.lineno, type(node).__name__) in module_level:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names - PAPER_NAMES


def solution_values(text: str) -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    """(constant, how a reader would write it), (constant, its literal): timing constants."""
    seconds = {}
    literals: List[Tuple[str, str]] = []
    for node in _solution_nodes(text):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id.endswith("_S") \
                and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, float):
            literal = ast.get_source_segment(text, node.value) or repr(node.value.value)
            seconds[node.targets[0].id] = (node.value.value, literal)
    forms: List[Tuple[str, str]] = []
    for name, (value, literal) in seconds.items():
        ms = f"{value * 1000:g}"
        forms += [(name, f"{ms} ms"), (name, f"{ms}ms")]
        literals.append((name, literal))
        if name.endswith("_MIN_S") and name.replace("_MIN_S", "_MAX_S") in seconds:
            top = f"{seconds[name.replace('_MIN_S', '_MAX_S')][0] * 1000:g}"
            forms += [(name, f"{ms}-{top}"), (name, f"{ms} to {top}")]
    return forms, literals


def staff_pages(repo_root: Path) -> str:
    """README.md and every docs/*.md page, joined: the text find_leaks keeps
    out of a student's tree (the front page alone would miss the figures and
    sentences the docs pages hold)."""
    pages = [repo_root / "README.md", *sorted((repo_root / "docs").glob("*.md"))]
    return "\n\n".join(page.read_text() for page in pages if page.is_file())


def _prose(readme: str) -> Iterator[str]:
    """README's paragraphs of prose: no code blocks, no tables, no headings."""
    paragraph: List[str] = []
    for line in readme.splitlines() + [""]:
        code = line.startswith("    ") and not paragraph
        if not line.strip() or code or line.startswith(("|", "#", "```")):
            if paragraph:
                yield " ".join(paragraph)
            paragraph = []
            continue
        paragraph.append(line.strip().lstrip("- "))


def readme_sentences(readme: str) -> Set[str]:
    sentences = set()
    for paragraph in _prose(readme):
        for sentence in re.split(r"(?<=[.:;!?)])\s+", paragraph):
            words = sentence.split()
            if len(words) >= SENTENCE_WORDS:
                sentences.add(" ".join(words))
    return sentences


def readme_figures(readme: str) -> Tuple[Set[str], Set[str]]:
    """(Passed-line figures, measurements with a unit) that README quotes."""
    passed = {" ".join(m.group("figures").split()) for m in PASSED.finditer(readme)}
    for line in readme.splitlines():
        if line.startswith("|"):
            passed.update(cell.strip() for cell in line.split("|")
                          if TABLE_FIGURES.match(cell.strip()))
    measured = set()
    for paragraph in _prose(readme):
        measured.update(m.group(0) for m in MEASUREMENT.finditer(paragraph))
    return passed, measured


def _text_files(tree: Path) -> Iterator[Tuple[Path, str]]:
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or ".egg-info" in str(path):
            continue
        try:
            yield path, path.read_text()
        except UnicodeDecodeError:
            continue  # not text


def _defined_in_lab(tree: Path) -> Set[str]:
    """Names that the tree's own Python code (raft.py apart) defines."""
    names: Set[str] = set()
    for path in sorted(tree.rglob("*.py")):
        if path.name == "raft.py" or "__pycache__" in path.parts:
            continue
        try:
            module = ast.parse(path.read_text())
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(module):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
        for node in module.body:
            if isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def staff_traces(tree: Path) -> List[Leak]:
    """The staff's files in tree, and each mention of the staff's tools."""
    leaks = [Leak(str(path.relative_to(tree)), 0, "a file of the grader's: never the student's")
             for path in sorted(tree.rglob("*"))
             if path.name in STAFF_FILES and "__pycache__" not in path.parts]
    for path, text in _text_files(tree):
        for match in STAFF_WORDS.finditer(text):
            leaks.append(Leak(str(path.relative_to(tree)), _line_of(text, match.start()),
                              f"names {match.group(0)!r}, the staff's"))
    return leaks


def find_leaks(tree: Path, solution_raft: str, solution_readme: str) -> List[Leak]:
    """Every trace of the solution or the staff's tools in tree (see the module's docstring)."""
    names = solution_names(solution_raft)
    name_pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b")
    values, literals = solution_values(solution_raft)
    sentences = readme_sentences(solution_readme)
    passed, measured = readme_figures(solution_readme)
    lab_names = _defined_in_lab(tree)
    leaks: List[Leak] = []
    for path, text in _text_files(tree):
        where = str(path.relative_to(tree))
        is_raft = path.name == "raft.py"
        prose = path.suffix in PROSE or is_raft
        for match in name_pattern.finditer(text):
            if not is_raft and match.group(1) in lab_names:
                continue
            leaks.append(Leak(where, _line_of(text, match.start()),
                              f"names {match.group(1)}, defined in the solution's raft.py"))
        for name, form in values + (literals if prose else []):
            for match in re.finditer(r"(?<![\w.])" + re.escape(form) + r"(?![\w])", text):
                leaks.append(Leak(where, _line_of(text, match.start()),
                                  f"{form!r}: the solution's {name}"))
        flat = " ".join(text.split()) if prose else ""
        for sentence in sentences:
            if sentence in flat:
                leaks.append(Leak(where, _line_of(text, text.find(sentence.split()[0])),
                                  f"holds the solution README's sentence {sentence[:60]!r}..."))
        for figure in passed | (measured if prose else set()):
            figure_pattern = r"(?<![\w.])" + r"\s+".join(map(re.escape, figure.split())) \
                + r"(?![\w.])"
            for match in re.finditer(figure_pattern, text):
                leaks.append(Leak(where, _line_of(text, match.start()),
                                  f"{figure!r}: a figure of the solution's README"))
    return leaks + staff_traces(tree)
