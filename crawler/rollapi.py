"""Sina's roll API: request URLs and parsing of its JSON answers (SINA.md §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from crawler.listing import DEFAULT_FUTURE_SKEW, BadValue, checked_url, epoch_time

ROLL_API = "https://feed.mix.sina.com.cn/api/roll/get"
PAGE_SIZE = 50  # the API clamps larger values to 50
MAX_TEXT = 1000  # characters kept of a title, intro or media name
MAX_ITEMS = 500  # entries read from one answer (CAIXUN_MAX_LIST_ITEMS): Sina sends 50; more is not a roll page


class RollApiError(ValueError):
    """The roll API answered, but not with a usable page."""


@dataclass(frozen=True)
class RollItem:
    url: str
    title: str | None
    intro: str | None
    media_name: str | None
    ctime: datetime | None
    mtime: datetime | None

    def as_meta(self) -> dict:
        return {
            "url": self.url,
            "title": self.title,
            "media_name": self.media_name,
            "ctime": self.ctime.isoformat() if self.ctime else None,
            "mtime": self.mtime.isoformat() if self.mtime else None,
        }


def roll_api_url(pageid: int, lid: int, page: int, base: str = ROLL_API) -> str:
    """Exactly …?pageid=P&lid=L&num=50&page=N: no cache busters, so replay archives match."""
    return f"{base}?pageid={pageid}&lid={lid}&num={PAGE_SIZE}&page={page}"


def channel_name(pageid: int, lid: int) -> str:
    return f"{pageid}:{lid}"


def parse_channels(text: str) -> list[tuple[int, int]]:
    """'153:2516,384:2519' → [(153, 2516), (384, 2519)]."""
    channels = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        pageid, sep, lid = part.partition(":")
        if not sep or not pageid.strip().isdigit() or not lid.strip().isdigit():
            raise ValueError(f"channel {part!r} is not pageid:lid (e.g. 153:2516)")
        channels.append((int(pageid), int(lid)))
    if not channels:
        raise ValueError("channels is empty; give pageid:lid pairs such as 153:2516,384:2519")
    return channels


def _text(value: object) -> str | None:
    """A text field as storable text: stripped, cut at MAX_TEXT, without NULs or lone surrogates
    (PostgreSQL refuses both, also inside JSON)."""
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()
    return text[:MAX_TEXT] or None


@dataclass
class RollPage:
    """One roll-API answer: the usable items in feed order, and what was wrong with the rest."""

    items: list[RollItem] = field(default_factory=list)
    bad_items: list[str] = field(default_factory=list)  # why each skipped entry could not be used
    bad_times: list[str] = field(default_factory=list)  # times ignored (their items are kept)
    capped: int = 0  # entries past max_items, not read


def parse_roll_page(
    body: bytes | str,
    *,
    now: datetime | None = None,
    max_items: int = MAX_ITEMS,
    skew: timedelta = DEFAULT_FUTURE_SKEW,
) -> RollPage:
    """The items of one roll-API answer. Raises RollApiError for an answer that is not a roll page.

    Entries are untrusted (crawler.listing): one without a usable URL is skipped
    and reported in bad_items; a ctime or mtime that is not a number, not
    finite, before 1995 or later than `now` (default: the current time) plus
    `skew` is ignored (None) and reported in bad_times. At most max_items
    entries are read; the rest are counted in capped.
    """
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RollApiError(f"invalid JSON: {exc}") from None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise RollApiError("no 'result' object in the answer")
    status = result.get("status") or {}
    code = status.get("code") if isinstance(status, dict) else status
    if code not in (0, "0"):
        message = status.get("msg") if isinstance(status, dict) else None
        raise RollApiError(f"status code {code!r}" + (f": {message}" if message else ""))
    entries = result.get("data") or []
    if not isinstance(entries, list):
        raise RollApiError("'result.data' is not a list")
    now = now or datetime.now(timezone.utc)
    page = RollPage(capped=max(0, len(entries) - max_items))
    for number, entry in enumerate(entries[:max_items], 1):
        if not isinstance(entry, dict):
            page.bad_items.append(f"item {number}: not an object")
            continue
        try:
            url = checked_url(entry.get("url"))
        except BadValue as exc:
            page.bad_items.append(f"item {number}: {exc}")
            continue
        times = {}
        for name in ("ctime", "mtime"):
            try:
                times[name] = epoch_time(entry.get(name), now=now, skew=skew)
            except BadValue as exc:
                page.bad_times.append(f"item {number} {name} {exc}")
                times[name] = None
        page.items.append(
            RollItem(
                url=url,
                title=_text(entry.get("title")),
                intro=_text(entry.get("intro")),
                media_name=_text(entry.get("media_name")),
                **times,
            )
        )
    return page
