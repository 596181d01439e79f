"""raft.py's skeleton, cut out of the solution by its marks.

    cut(solution_text)                  -> the skeleton (every part's comments)
    cut(solution_text, parts=["2A"])    -> the skeleton, comments of 2A only

The marks, so starter and solution can never drift apart:

    # SOLUTION BEGIN ... # SOLUTION END   the lines between go (and the marks)
    # STARTER: text                       becomes `text`, at the same indent

Then the skeleton's comments are fitted to the parts a course chose. A
comment line that names parts in parentheses, `# Your code here (2A, 2B).`,
keeps only the chosen ones (`(2A)`). If it names none of them, it goes, and
with it the comment lines that directly follow it at the same indent (its
example or explanation), up to the first line that is not such a comment.
Code lines always stay: the interface must exist even where a part is not
assigned (Start still returns, Snapshot still accepts its call). Comments
that name no part (`# Your code here, if desired.`) always stay.
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence

from labtools.parts import PARTS

BEGIN = "# SOLUTION BEGIN"
END = "# SOLUTION END"
STARTER = re.compile(r"^(?P<indent>\s*)# STARTER:(?: (?P<text>.*))?$")
# "(2A)", "(2A, 2B, 2C)" in a comment.
PART_TAG = re.compile(r"\((?P<parts>2[A-D](?:, 2[A-D])*)\)")


class MarkError(ValueError):
    """The solution's marks do not pair up."""


def cut(text: str, name: str = "raft.py", parts: Sequence[str] = PARTS) -> str:
    """The starter version of a solution file, its comments fitted to parts."""
    out: List[str] = []
    opened_at: Optional[int] = None
    for number, line in enumerate(text.splitlines(), start=1):
        mark = line.strip()
        if mark == BEGIN:
            if opened_at is not None:
                raise MarkError(f"{name}:{number}: {BEGIN} inside the region opened at "
                                f"line {opened_at}")
            opened_at = number
            continue
        if mark == END:
            if opened_at is None:
                raise MarkError(f"{name}:{number}: {END} without a {BEGIN}")
            opened_at = None
            continue
        if opened_at is not None:
            continue
        starter = STARTER.match(line)
        if starter:
            text_part = starter.group("text") or ""
            out.append(starter.group("indent") + text_part if text_part else "")
        else:
            out.append(line)
    if opened_at is not None:
        raise MarkError(f"{name}:{opened_at}: {BEGIN} is never closed")
    out = fit_comments(out, parts)
    # Cutting leaves runs of blank lines; keep at most two.
    squeezed = re.sub(r"\n{4,}", "\n\n\n", "\n".join(out).rstrip("\n") + "\n")
    compile(squeezed, name, "exec")  # the starter must at least be valid Python
    return squeezed


def _comment_indent(line: str) -> Optional[str]:
    """The indent of a comment-only line, or None if line is not one."""
    stripped = line.lstrip()
    return line[:len(line) - len(stripped)] if stripped.startswith("#") else None


def fit_comments(lines: Sequence[str], parts: Sequence[str]) -> List[str]:
    """lines with each part-naming comment fitted to parts (module docstring)."""
    out: List[str] = []
    dropping: Optional[str] = None  # the indent of the comment run being dropped
    for line in lines:
        indent = _comment_indent(line)
        if dropping is not None:
            if indent == dropping and not PART_TAG.search(line):
                continue
            dropping = None
        tag = PART_TAG.search(line) if indent is not None else None
        if tag is None:
            out.append(line)
            continue
        named = tag.group("parts").split(", ")
        kept = [part for part in named if part in parts]
        if not kept:
            dropping = indent
            continue
        out.append(line[:tag.start()] + f"({', '.join(kept)})" + line[tag.end():])
    return out
