"""Listing data is untrusted: times and URLs read from list APIs, checked before anything uses them.

A list API (Sina's roll API today) is another party's JSON. One item with a
time of "inf", a year of 2100 or a URL with a lone surrogate must cost that
item, never the rest of its page, the channel's paging or its watermark. So:

- epoch_time() turns epoch seconds into an aware UTC time and raises BadValue
  for a value that is there but unusable: not a number, not finite, before
  EARLIEST, or later than `now` plus a small clock skew (a future time would
  become the channel's watermark and stop every later sweep at page 1);
- checked_url() raises BadValue for a URL no request can be made of: not a
  string, too long for storage, not encodable as UTF-8 (lone surrogates),
  and for http(s) URLs control characters or spaces inside, a broken host or
  port (other schemes are never requested: the site rule skips them as "other").

Callers skip the item (bad URL) or ignore the time (bad time) and count both.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from w3lib.url import safe_url_string

EARLIEST = datetime(1995, 1, 1, tzinfo=timezone.utc)  # before any Chinese news site was on the web
DEFAULT_FUTURE_SKEW = timedelta(hours=1)  # how far ahead of our clock a listed time may be
MAX_URL_LENGTH = 2048  # storage's URL columns (storage.models)

_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")


def list_time_skew(settings) -> timedelta:
    """CAIXUN_LIST_TIME_SKEW (seconds, default one hour) from Scrapy settings."""
    seconds = settings.getfloat("CAIXUN_LIST_TIME_SKEW", DEFAULT_FUTURE_SKEW.total_seconds())
    if not 0 <= seconds < 366 * 86400:
        raise ValueError(f"CAIXUN_LIST_TIME_SKEW must be between 0 and a year in seconds, got {seconds}")
    return timedelta(seconds=seconds)


class BadValue(ValueError):
    """A listed value that is present but unusable; the message says why, briefly."""


def epoch_time(
    value: object, *, now: datetime, skew: timedelta = DEFAULT_FUTURE_SKEW, per_second: int = 1
) -> datetime | None:
    """Epoch seconds (int, float or their text) → aware UTC datetime; None when absent ("", None, 0).

    per_second=1000 reads milliseconds (thepaper's pubTimeLong).
    """
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadValue(f"not a number: {_shown(value)}")
    try:
        seconds = float(value) / per_second
    except ValueError:
        raise BadValue(f"not a number: {_shown(value)}") from None
    if not math.isfinite(seconds):
        raise BadValue(f"not finite: {_shown(value)}")
    if seconds < EARLIEST.timestamp():
        raise BadValue(f"before {EARLIEST:%Y}: {_shown(value)}")
    if seconds > (now + skew).timestamp():
        raise BadValue(f"in the future: {_shown(value)}")
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def checked_url(value: object) -> str:
    """The URL, stripped, if a request can be made of it and storage can hold it; else BadValue."""
    if value is None:
        raise BadValue("no URL")
    if not isinstance(value, str):
        raise BadValue(f"URL is not text: {_shown(value)}")
    url = value.strip()
    if not url:
        raise BadValue("no URL")
    if len(url) > MAX_URL_LENGTH:
        raise BadValue(f"URL longer than {MAX_URL_LENGTH} characters ({len(url)})")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise BadValue(f"URL is not valid Unicode (lone surrogate): {_shown(url)}") from None
    if not url.lower().startswith(("http://", "https://")):
        return url  # never requested: the site rule classifies it as "other"
    if _CONTROL_OR_SPACE.search(url):
        raise BadValue(f"URL has spaces or control characters: {_shown(url)}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number or out of range)
        safe_url_string(url)
    except ValueError as exc:
        raise BadValue(f"URL is malformed ({exc}): {_shown(url)}") from None
    return url


def _shown(value: object, limit: int = 80) -> str:
    """A value for a log line: repr, cut, never raising on odd text."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
