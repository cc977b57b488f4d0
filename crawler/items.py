"""What a spider hands to the pipeline: the fetched page and how it was found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class FetchedPage:
    url: str  # final URL, after redirects
    request_url: str  # the URL the spider asked for
    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)  # kept out of log lines
    fetched_at: datetime
    discovered_from: str  # the roll-API page or argument that led to this URL
    discovery: dict = field(default_factory=dict)  # e.g. the roll-API item (title, ctime, media_name)
    fetch_id: int | None = None  # the fetches row recorded for this response (provenance)
