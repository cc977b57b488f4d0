"""What a spider hands to the pipeline: a fetched page and how it was found, or a fetch that failed."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy import Request

# request meta of a list request (crawler.spiders.news), read by crawler.middlewares.incremental:
# {"label", "page", "site", "source" (key), "newest", "oldest" (listed times on the page)}
LIST_META = "caixun_list"


def requested_url(request: Request) -> str:
    """The URL first asked for, before any redirect: page states and fetches are keyed on it."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def listed_at(discovery: dict | None) -> datetime | None:
    """The listed modification time of a discovered article, kept as ISO text: "listed_at" from any
    source, or the roll API's "mtime" (RollItem.as_meta)."""
    discovery = discovery or {}
    listed = discovery.get("listed_at") or discovery.get("mtime")
    return datetime.fromisoformat(listed) if listed else None


@dataclass
class FetchedPage:
    url: str  # final URL, after redirects
    request_url: str  # the URL the spider asked for
    status: int  # 200, or 304 / 404 / 410, which the pipeline handles too
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)  # kept out of log lines
    fetched_at: datetime
    discovered_from: str  # the list page or argument that led to this URL
    discovery: dict = field(default_factory=dict)  # the list entry (ListedItem.discovery: title, listed time, …)
    fetch_id: int | None = None  # the fetches row recorded for this response (provenance)
    site: str | None = None  # the site the request belonged to (crawler.sites), for per-site counts

    def to_json(self) -> dict:
        """A JSON-safe dict (body base64, time ISO) for the spool; from_json reverses it."""
        data = asdict(self)
        data["body"] = base64.b64encode(self.body).decode("ascii")
        data["fetched_at"] = self.fetched_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> FetchedPage:
        data = dict(data)
        data["body"] = base64.b64decode(data["body"])
        data["fetched_at"] = datetime.fromisoformat(data["fetched_at"])
        return cls(**data)


@dataclass
class FetchFailed:
    """A request that ended without a usable response: after retries, or refused before sending."""

    url: str  # as requested
    reason: str  # short, stable, for stats: "http_503", "timeout", "connection_lost", "too_large", …
    message: str = field(repr=False)  # the full error, for the fetches row (the drop log line has it)
    fetched_at: datetime = field(repr=False)
    status: int | None = None  # the HTTP status when there was a response
    discovered_from: str | None = field(default=None, repr=False)
    discovery: dict = field(default_factory=dict, repr=False)
    fetch_id: int | None = field(default=None, repr=False)  # the fetches row, when a response was recorded
    site: str | None = field(default=None, repr=False)
