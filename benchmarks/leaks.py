"""Boilerplate leaks: known non-article strings found in a predicted body.

Two sources: the extractors' own list (extractors.boilerplate: is_boilerplate
and starts_trailer applied to each body line, plus the 责任编辑 / 原标题 line
patterns) and the literal examples of EXTRACTION_SPEC.md ("The body drops").
Chinese patterns apply to Chinese pages only; the generic ones (copyright
line, live-quote fragment, investing disclaimer) apply to every page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors import boilerplate

# (label, regex, applies to every language): kept with the extractors' filters
SPEC_PATTERNS = boilerplate.LEAK_MARKERS
_SPEC_RES = tuple((label, re.compile(regex), generic) for label, regex, generic in SPEC_PATTERNS)
_LINE_RES = tuple(re.compile(p) for p in boilerplate.LINE_PATTERNS)
_TRAILER_RES = tuple(re.compile(p) for p in boilerplate.TRAILER_PATTERNS)


@dataclass(frozen=True)
class Leak:
    """One boilerplate string found in a body: what matched, and the pattern it matched."""

    matched: str
    pattern: str

    def as_dict(self) -> dict[str, str]:
        return {"matched": self.matched, "pattern": self.pattern}


def _first_match(line: str, patterns: tuple[re.Pattern[str], ...]) -> tuple[str, str]:
    for pattern in patterns:
        if match := pattern.search(line):
            return match.group(0).strip() or line.strip(), pattern.pattern
    return line.strip(), "?"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_leaks(body: str | None, *, chinese: bool = True) -> list[Leak]:
    """Every known boilerplate string in the body (one entry per distinct match); [] when clean."""
    if not body:
        return []
    found: dict[str, Leak] = {}

    def add(matched: str, pattern: str) -> None:
        leak = Leak(_short(matched), pattern)
        found.setdefault(leak.matched, leak)

    for label, regex, generic in _SPEC_RES:
        if not (generic or chinese):
            continue
        for match in regex.finditer(body):
            add(match.group(0), label)
    if chinese:
        for line in body.split("\n"):
            if not line.strip():
                continue
            if boilerplate.is_boilerplate(line):
                add(*_first_match(line, _LINE_RES))
            if boilerplate.starts_trailer(line):
                add(*_first_match(line, _TRAILER_RES))
            if boilerplate.EDITOR_LINE.search(line):
                add(line.strip(), "EDITOR_LINE")
            if boilerplate.ORIGINAL_TITLE_LINE.search(line):
                add(line.strip(), "ORIGINAL_TITLE_LINE")
    return list(found.values())
