"""Publication times: ISO 8601 and Chinese date forms, in the site's zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")

# "2019年09月09日 08:32", "2011年05月15日08:31", "2019-09-09 08:32:11", "2019/09/09 08:32"
_CN_DATETIME = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[年/.-]\s*(?P<m>\d{1,2})\s*[月/.-]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)


def parse_datetime(text: str | None, default_tz: timezone = CHINA_TZ) -> datetime | None:
    """ISO 8601 (with or without offset) or a Chinese date/time; naive → default_tz."""
    if not text:
        return None
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        match = _CN_DATETIME.search(text)
        if not match:
            return None
        parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
        try:
            parsed = datetime(
                parts["y"], parts["m"], parts["d"], parts.get("H", 0), parts.get("M", 0), parts.get("S", 0)
            )
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def find_datetime(text: str) -> datetime | None:
    """The first Chinese date *with a time of day* in free text."""
    for match in _CN_DATETIME.finditer(text):
        if match.group("H") is not None:
            return parse_datetime(match.group(0))
    return None
