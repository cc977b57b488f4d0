"""Sina's roll API: request URLs and parsing of its JSON answers (SINA.md §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

ROLL_API = "https://feed.mix.sina.com.cn/api/roll/get"
PAGE_SIZE = 50  # the API clamps larger values to 50

# pageid:lid pairs of the finance channels
DEFAULT_CHANNELS: tuple[tuple[int, int], ...] = (
    (153, 2516),  # 财经
    (153, 2517),  # 股市
    (153, 2518),  # 美股
    (384, 2519),  # 财经 (finance roll)
    (384, 2671),  # 股市
    (384, 2672),  # 美股
    (384, 2673),  # 中国概念股
    (384, 2674),  # 港股
    (384, 2675),  # 研究报告
    (384, 2676),  # 全球市场
)


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


def epoch(value: object) -> datetime | None:
    """Epoch seconds as int, float or digit string → aware UTC datetime; else None."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def parse_roll_page(body: bytes | str) -> list[RollItem]:
    """The items of one roll-API answer. Raises RollApiError for anything else."""
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
    items = []
    for entry in entries:
        url = _text(entry.get("url")) if isinstance(entry, dict) else None
        if not url:
            continue
        items.append(
            RollItem(
                url=url,
                title=_text(entry.get("title")),
                intro=_text(entry.get("intro")),
                media_name=_text(entry.get("media_name")),
                ctime=epoch(entry.get("ctime")),
                mtime=epoch(entry.get("mtime")),
            )
        )
    return items
