"""Ground truth: what a page should give, read from the corpus formats and fixture JSON.

A Truth holds the expected body (None = body not scored) and the metadata
fields to score (a key is scored only when present; its value may be None,
meaning "the page has none"). Times carry the precision the truth gives:
to the minute, or only the date; a naive truth time is China time (+08:00).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import lxml.html

CHINA_TZ = timezone(timedelta(hours=8))
METADATA_FIELDS: tuple[str, ...] = ("title", "published_at", "source", "editor", "authors")
PUBLISHED_DAY = "published_day"  # scored wherever published_at is: the day alone, from the same prediction

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr "
    "li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_TRUTH_TIME = re.compile(
    r"^\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?\s*$"
)


@dataclass(frozen=True)
class TruthTime:
    """A publication time as the truth gives it: to the minute, or a date only."""

    value: datetime  # aware; midnight when date_only
    date_only: bool

    def matches(self, predicted: datetime | None) -> bool:
        """The same instant to the minute with the same UTC offset; the same day for a date-only truth.

        A time without an offset matches nothing: "08:32" alone does not say which 08:32.
        """
        if predicted is None or predicted.tzinfo is None:
            return False
        if self.date_only:
            return self.same_day(predicted)
        minute = predicted.replace(second=0, microsecond=0)
        return minute == self.value.replace(second=0, microsecond=0) and predicted.utcoffset() == self.value.utcoffset()

    def same_day(self, predicted: datetime | None) -> bool:
        """The publication day is right: the prediction falls on the truth's date, read in the truth's offset."""
        if predicted is None or predicted.tzinfo is None:
            return False
        return predicted.astimezone(self.value.tzinfo).date() == self.value.date()

    def __str__(self) -> str:
        return self.value.date().isoformat() if self.date_only else self.value.isoformat()


@dataclass
class Truth:
    """Expected body (None: not scored) and the metadata fields to score."""

    body: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    # strings from the page that a clean body must not hold (a fixture's hand-picked must_not_contain)
    must_not_contain: tuple[str, ...] = ()


def parse_truth_time(text: str | None, *, midnight_is_date: bool = False) -> TruthTime | None:
    """"2005-3-11 12:12", "2023-11-02", "2018-09-28T16:41:00+08:00" → TruthTime; None when unusable.

    Naive times are China time (+08:00). With midnight_is_date, 00:00:00 means
    "date only" (newspaper4k writes dates that way).
    """
    if not text:
        return None
    match = _TRUTH_TIME.match(text)
    if not match:
        return None
    parts = match.groupdict()
    tz = CHINA_TZ
    if parts["tz"]:
        tz = datetime.fromisoformat("2000-01-01T00:00:00" + parts["tz"].replace("Z", "+00:00")).tzinfo or CHINA_TZ
    try:
        day = date(int(parts["y"]), int(parts["m"]), int(parts["d"]))
        if parts["H"] is None:
            return TruthTime(datetime(day.year, day.month, day.day, tzinfo=tz), True)
        value = datetime(day.year, day.month, day.day, int(parts["H"]), int(parts["M"]), int(parts["S"] or 0), tzinfo=tz)
    except ValueError:
        return None
    if midnight_is_date and (value.hour, value.minute, value.second) == (0, 0, 0):
        return TruthTime(value, True)
    return TruthTime(value, False)


def html_block_text(html: str) -> str:
    """Text of an HTML fragment, one line per block element, white space collapsed inside lines."""
    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            element.text = ""
            continue
        if element.tag in ("script", "style"):
            element.text = ""
            for child in list(element):
                element.remove(child)
        if element.tag in _BLOCK_TAGS:
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def _clean_text(text: str | None) -> str | None:
    return text if text and text.strip() else None


def corpus_truth(gt: dict[str, Any]) -> Truth:
    """Truth from a corpus ground-truth JSON (shared/corpus/SOURCES.md, "Ground-truth JSON format")."""
    fmt = gt.get("_format", "")
    truth = Truth()
    if fmt.startswith("mozilla/readability"):
        truth.body = _clean_text(html_block_text(gt.get("expected_html") or ""))
    elif fmt.startswith("AndyTheFactory/newspaper4k"):
        metadata = gt.get("metadata") or {}
        truth.body = _clean_text(gt.get("body"))
        if metadata.get("title"):
            truth.fields["title"] = metadata["title"]
        if when := parse_truth_time(metadata.get("publish_date"), midnight_is_date=True):
            truth.fields["published_at"] = when
    elif fmt.startswith(("immortal-autumn", "opendatalab/magic-html", "adbar/htmldate")):
        # body (may be null: htmldate), publish_time ("UNKNOWN", "" or partial: not scored)
        truth.body = _clean_text(gt.get("body"))
        if gt.get("title"):
            truth.fields["title"] = gt["title"]
        if when := parse_truth_time(gt.get("publish_time")):
            truth.fields["published_at"] = when
    else:
        raise ValueError(f"unknown ground-truth format: {fmt[:80]!r}")
    return truth


def fixture_truth(expected: dict[str, Any]) -> Truth:
    """Truth from a fixture's "expected" object; partial objects score only the keys they have."""
    truth = Truth(body=_clean_text(expected.get("body")))
    for name in METADATA_FIELDS:
        if name not in expected:
            continue
        value = expected[name]
        if name == "published_at" and value is not None:
            value = parse_truth_time(value)
            if value is None:
                continue  # unreadable time: leave it out rather than count it wrong
        truth.fields[name] = value
    return truth


def _trimmed(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def field_matches(name: str, predicted: Any, expected: Any) -> bool:
    """Exact match after trimming; published_at to the minute with its offset (or the date, for a date-only
    truth); published_day: the day of published_at (a time-less truth has nothing else to say)."""
    if name in ("published_at", PUBLISHED_DAY):
        if expected is None:
            return predicted is None
        return expected.matches(predicted) if name == "published_at" else expected.same_day(predicted)
    if name == "authors":
        want = [a for a in (_trimmed(x) for x in expected or []) if a]
        got = [a for a in (_trimmed(x) for x in predicted or []) if a]
        return got == want
    return _trimmed(predicted) == _trimmed(expected)


def truth_value_json(name: str, value: Any) -> Any:
    """A truth value for the JSON report."""
    if isinstance(value, TruthTime):
        return str(value)
    return value
