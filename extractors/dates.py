"""Publication times: ISO 8601, Chinese and numeric date forms, in the site's zone.

A time the page gives without a time of day ("2005年08月16日", "2003-7-24") is
kept as 00:00 of that day in the site's zone, with precision "day"; the
precision of every parsed time is "day", "minute" or "second", read from the
raw string (`precision_of`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")

# No web page was published before the web: earlier years in a header are
# anniversaries or history, never the publication day.
FIRST_YEAR = 1995

# "2019年09月09日 08:32", "2011年05月15日08:31", "2019-09-09 08:32:11", "2019/9/9",
# "2003-7-24", "2005.08.16", "2019-09-09T08:32:11+08:00", "2005年8月16日 14时20分"
_CN_DATETIME = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?P<sep>[年/.-])\s*(?P<m>\d{1,2})\s*[月/.-]\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：时点]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)
# the day with a month name: "Jun 21, 2025", "21 June 2025" (feeds that carry Chinese articles)
_MONTHS = {m: n for n, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_EN_DATE = re.compile(
    r"\b(?:(?P<mon>[A-Z][a-z]{2})[a-z]*\.?\s+(?P<d>\d{1,2}),?\s+|(?P<d2>\d{1,2})\s+(?P<mon2>[A-Z][a-z]{2})[a-z]*\.?,?\s+)"
    r"(?P<y>(?:19|20)\d{2})\b(?:,?\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_ISO_TIME = re.compile(r"\d[T\s]\d{1,2}:\d{2}")


@dataclass(frozen=True)
class Stamp:
    """A publication time and how much of it the page gave: "day", "minute" or "second"."""

    moment: datetime
    precision: str


def precision_of(raw: str | None) -> str | None:
    """"second", "minute" or "day": how much of a time a raw string gives (None: no date in it)."""
    stamp = parse_stamp(raw)
    return stamp.precision if stamp else None


def parse_datetime(text: str | None, default_tz: timezone = CHINA_TZ) -> datetime | None:
    """ISO 8601 (with or without offset) or a Chinese/numeric date and time; naive → default_tz."""
    stamp = parse_stamp(text, default_tz)
    return stamp.moment if stamp else None


def parse_stamp(text: str | None, default_tz: timezone = CHINA_TZ) -> Stamp | None:
    """The first date in `text` (ISO 8601 first), with its precision; impossible dates are None."""
    if not text:
        return None
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        text = unicodedata.normalize("NFKC", text)  # full-width digits and colons
        match = _CN_DATETIME.search(text) or _EN_DATE.search(text)
        return _stamp(match, default_tz) if match else None
    if parsed.year < FIRST_YEAR:
        return None
    if _ISO_TIME.search(text):
        precision = "second" if parsed.second or re.search(r"\d:\d{2}:\d{2}", text) else "minute"
    else:
        precision = "day"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return Stamp(parsed, precision)


def _stamp(match: re.Match, default_tz: timezone) -> Stamp | None:
    parts = match.groupdict()
    try:
        if "mon" in parts:
            month = _MONTHS.get((parts["mon"] or parts["mon2"]).lower()[:3])
            day = int(parts["d"] or parts["d2"])
        else:
            month, day = int(parts["m"]), int(parts["d"])
        if month is None or int(parts["y"]) < FIRST_YEAR:
            return None
        hour, minute, second = (int(parts[k] or 0) for k in ("H", "M", "S"))
        moment = datetime(int(parts["y"]), month, day, hour, minute, second, tzinfo=default_tz)
    except ValueError:  # 2005-13-40, 25:70: not a date
        return None
    precision = "day" if parts["H"] is None else "second" if parts["S"] is not None else "minute"
    return Stamp(moment, precision)


def find_stamps(text: str, default_tz: timezone = CHINA_TZ) -> list[Stamp]:
    """Every possible date in free text, in order (Chinese and numeric forms, then month names)."""
    text = unicodedata.normalize("NFKC", text)
    found = []
    for pattern in (_CN_DATETIME, _EN_DATE):
        for match in pattern.finditer(text):
            if stamp := _stamp(match, default_tz):
                found.append((match.start(), stamp))
    return [stamp for _, stamp in sorted(found, key=lambda item: item[0])]


def find_datetime(text: str) -> datetime | None:
    """The first date *with a time of day* in free text."""
    return next((s.moment for s in find_stamps(text) if s.precision != "day"), None)


# /2005/07/31/, /2019-09-09/, /20190909/, /201909/09/, /2005-07/31/ (not /41210/: no century)
_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d{2})(?:[/-]?(?P<m>[01]\d)[/-]?(?P<d>[0-3]\d)|/(?P<m2>\d{1,2})/(?P<d2>\d{1,2})"
    r"|-(?P<m3>\d{1,2})-(?P<d3>\d{1,2}))(?=[/_.-]|$)"
)


def url_date(url: str, default_tz: timezone = CHINA_TZ) -> Stamp | None:
    """The day a URL's path names (day precision), or None."""
    path = re.sub(r"^[a-z]+://[^/]*", "", url or "", flags=re.I)
    for match in _URL_DATE.finditer(path):
        year = int(match.group("y"))
        month = match.group("m") or match.group("m2") or match.group("m3")
        day = match.group("d") or match.group("d2") or match.group("d3")
        try:
            moment = datetime(year, int(month), int(day), tzinfo=default_tz)
        except ValueError:
            continue
        if year >= FIRST_YEAR:
            return Stamp(moment, "day")
    return None
