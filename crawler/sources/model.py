"""What a list answer gives: items, the next page, and counts of what was wrong; and the checks
shared by every kind (text, times in a unit, URLs)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

from crawler.listing import BadValue, checked_url, epoch_time
from extractors.dates import parse_datetime

MAX_ITEMS = 500  # CAIXUN_MAX_LIST_ITEMS: entries read from one answer
MAX_TEXT = 1000  # characters kept of a title

# 163's news_flow files: "05/10/2024 14:32:05" (month first)
_MONTH_FIRST = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


class SourceError(ValueError):
    """The source answered, but not with a usable list page."""


@dataclass(frozen=True)
class ListedItem:
    url: str
    title: str | None
    listed_at: datetime | None  # the listed modification or publication time (mtime, lastmod, pubDate, showTime), UTC
    source_key: str
    meta: tuple[tuple[str, object], ...] = ()  # the source's own view of the item, kept as the discovery record
    placed_at: datetime | None = None  # when the item entered the list, where that differs (the roll API's ctime)

    @property
    def position(self) -> datetime | None:
        """The time that orders the list: what `since` and watermarks compare."""
        return self.placed_at or self.listed_at

    def discovery(self) -> dict:
        """What the fetch records as its discovery (fetches.discovery); crawler.items.listed_at reads it back."""
        if self.meta:
            return dict(self.meta)
        return {
            "url": self.url,
            "title": self.title,
            "listed_at": self.listed_at.isoformat() if self.listed_at else None,
            "source": self.source_key,
        }


@dataclass
class ListPage:
    items: list[ListedItem] = field(default_factory=list)
    next_url: str | None = None  # the next page of this list, when the source pages and this page listed something
    follow: list[str] = field(default_factory=list)  # sitemaps a sitemap index names
    bad_items: int = 0  # entries skipped: no usable URL
    bad_times: int = 0  # times ignored (their items kept)
    skipped: int = 0  # entries the source's skip rule leaves out (yicai's paid items)
    not_article: int = 0  # HtmlList links not matching the site's article_urls
    capped: int = 0  # entries past max_items, not read
    item_problems: list[str] = field(default_factory=list)  # why each bad item, for the log
    time_problems: list[str] = field(default_factory=list)  # why each bad time

    @property
    def problems(self) -> list[str]:
        return self.item_problems + self.time_problems

    def bad_item(self, why: str) -> None:
        self.bad_items += 1
        self.item_problems.append(why)

    def bad_time(self, why: str) -> None:
        self.bad_times += 1
        self.time_problems.append(why)


def clean_text(value: object) -> str | None:
    """Storable text: stripped, cut at MAX_TEXT, without NULs or lone surrogates."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()
    return text[:MAX_TEXT] or None


def listed_time(value: object, unit: str, *, now: datetime, skew: timedelta, tz: tzinfo) -> datetime | None:
    """A listed time in `unit` ("s", "ms", "text", "rfc822") → aware UTC, checked as crawler.listing does."""
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if unit == "s":
        return epoch_time(value, now=now, skew=skew)
    if unit == "ms":
        return epoch_time(value, now=now, skew=skew, per_second=1000)
    if not isinstance(value, str):
        raise BadValue(f"not a date: {value!r:.80}")
    moment = _text_time(value, unit, tz)
    if moment is None:
        raise BadValue(f"not a date: {value!r:.80}")
    return epoch_time(moment.timestamp(), now=now, skew=skew)


def _text_time(text: str, unit: str, tz: tzinfo) -> datetime | None:
    if unit == "rfc822" or text[:1].isalpha():  # RSS pubDate: "Fri, 10 May 2024 14:32:05 +0800"
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    if match := _MONTH_FIRST.match(text):
        month, day, year, hour, minute, second = (int(g or 0) for g in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=tz)
        except ValueError:
            return None
    try:
        return parse_datetime(text[:100], tz)
    except (ValueError, OverflowError):
        return None


def url_or_bad(page: ListPage, value: object, number: int) -> str | None:
    try:
        return checked_url(value)
    except BadValue as exc:
        page.bad_item(f"item {number}: {exc}")
        return None


def time_or_bad(page: ListPage, value: object, number: int, unit: str, **checks) -> datetime | None:
    try:
        return listed_time(value, unit, **checks)
    except BadValue as exc:
        page.bad_time(f"item {number} time {exc}")
        return None


