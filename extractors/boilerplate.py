"""Chinese news boilerplate: families of line patterns, matched on a normalised line.

A Family is data: a name, what to do with a matching line (`kind`), its
patterns, and the lines it must drop (`examples`) and must keep (`near_misses`);
tests/test_boilerplate.py holds every family to both. The site-neutral families
are in `boilerplate_families.py`; a site's own (Sina's app promos…) sit in its
SiteRule's `boilerplate`, and apply on every page, because syndicated articles
carry them to other sites and apps.

Patterns are written against the *key* of a line (`normalize_key`): NFKC
("，"→",", "："→":", "（）"→"()"; 【】、。《》 stay; "…"→"..."), whitespace
collapsed, and spaces next to a CJK character removed ("字号 大 中 小" →
"字号大中小"), so punctuation width and spacing never decide a match. The
kept line itself is never normalised.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

# drop: the line goes; cut: the line and the rest of the body go (trailing disclaimers);
# field: the line goes and its `value` group fills an Article field
Kind = Literal["drop", "cut", "field"]


@dataclass(frozen=True)
class Family:
    name: str
    kind: Kind
    patterns: tuple[str, ...]
    examples: tuple[str, ...]  # lines that must match (real strings where we have them)
    near_misses: tuple[str, ...] = ()  # article sentences that must not match
    max_len: int = 0  # longer keys are article text (0: no limit)
    # False for widget and footer lines: a line ending like a sentence ("。") is prose
    sentence: bool = True
    field: str | None = None  # for kind "field": the Article field the value goes to


@dataclass(frozen=True)
class Hit:
    family: Family
    pattern: str
    value: str | None = None  # kind "field": the value, taken from the un-normalised line


_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SPACES = re.compile(r"\s+")
_SPACE_BY_CJK = re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")
_SENTENCE_END = "。"


def normalize_key(line: str) -> str:
    """The form patterns are matched against: NFKC, one space per run, none beside CJK."""
    key = _SPACES.sub(" ", unicodedata.normalize("NFKC", line)).strip()
    return _SPACE_BY_CJK.sub("", key)


def _key_positions(line: str) -> tuple[str, list[int]]:
    """normalize_key, with the index in `line` of every key character (to cut values from the line)."""
    chars: list[tuple[str, int]] = []
    for index, char in enumerate(line):
        for out in unicodedata.normalize("NFKC", char):
            if out.isspace():
                if chars and chars[-1][0] != " ":
                    chars.append((" ", index))
            else:
                chars.append((out, index))
    while chars and chars[-1][0] == " ":
        chars.pop()
    cjk = re.compile(f"[{_CJK}]")
    kept = [
        (char, index)
        for n, (char, index) in enumerate(chars)
        if char != " "
        or not ((n > 0 and cjk.match(chars[n - 1][0])) or (n + 1 < len(chars) and cjk.match(chars[n + 1][0])))
    ]
    return "".join(c for c, _ in kept), [i for _, i in kept]


# Editor codes after a name: "支全明 SF099", "姚立伟_NT6056".
_EDITOR_CODE = re.compile(r"(?<=[^\x00-\x7f])[\s_]*[A-Z]{1,5}\d{2,}$|_[A-Za-z0-9]+$")


class Matcher:
    """Families compiled once; `match` gives the first family whose pattern matches a line."""

    def __init__(self, families: tuple[Family, ...]):
        self.families = families
        self._compiled = [(family, [(p, re.compile(p)) for p in family.patterns]) for family in families]

    def match(self, line: str) -> Hit | None:
        key = normalize_key(line)
        if not key:
            return None
        for family, patterns in self._compiled:
            if family.max_len and len(key) > family.max_len:
                continue
            if not family.sentence and key.endswith(_SENTENCE_END):
                continue
            for source, pattern in patterns:
                if pattern.search(key):
                    value = _value(line, pattern) if family.kind == "field" else None
                    if family.kind == "field" and not value:
                        continue
                    return Hit(family, source, value)
        return None


def _value(line: str, pattern: re.Pattern[str]) -> str | None:
    key, positions = _key_positions(line)
    found = pattern.search(key)
    if not found or found.start("value") < 0 or found.end("value") <= found.start("value"):
        return None
    raw = line[positions[found.start("value")] : positions[found.end("value") - 1] + 1]
    return _EDITOR_CODE.sub("", raw.strip()).strip() or None


def all_families() -> tuple[Family, ...]:
    """Site-neutral families, then every registered site's own (they travel with its articles)."""
    # imported here: site modules import this one (Family), and the registry imports them
    from extractors.boilerplate_families import FAMILIES
    from extractors.registry import all_rules

    return FAMILIES + tuple(family for rule in all_rules() for family in rule.boilerplate)


@cache
def matcher() -> Matcher:
    return Matcher(all_families())


def is_boilerplate(line: str) -> bool:
    """A line to drop (widget, promo, footer…), not counting trailers and field lines."""
    hit = matcher().match(line)
    return hit is not None and hit.family.kind == "drop"


def starts_trailer(line: str) -> bool:
    """A line from which the rest of the body is not article (a trailing disclaimer)."""
    hit = matcher().match(line)
    return hit is not None and hit.family.kind == "cut"


ORIGINAL_TITLE_LINE = re.compile(
    r"^\s*[（(【\[]?\s*(?:本文)?(?:原标题\s*[:：]|原题\s*[:：]|原题为\s*[:：]?(?=\s*《))\s*《?(?P<title>.+?)》?\s*[）)】\]]?\s*$"
)
