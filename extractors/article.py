"""The clean article: the fields of EXTRACTION_SPEC.md, plus where it came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

GENERIC_SITE = "generic"  # Article.site (and articles.site) of every page no site rule handles


@dataclass
class Image:
    src: str
    caption: str | None = None


@dataclass
class Article:
    """One extracted article. Field names are EXTRACTION_SPEC's, everywhere."""

    url: str
    canonical_url: str | None = None
    title: str | None = None
    published_at: datetime | None = None  # timezone-aware
    # how much of published_at the page gave: "day" (a date without a time: published_at
    # is then 00:00 of that day in the site's zone), "minute" or "second"; None when no time
    published_precision: str | None = None
    source: str | None = None
    source_url: str | None = None  # the outlet's link, when the page gives one
    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    original_title: str | None = None
    body: str = ""
    images: list[Image] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    language: str | None = "zh"
    site: str = GENERIC_SITE
    extractor: str = ""  # rule/layout and version, e.g. "sina/v2017@1"
    warnings: list[str] = field(default_factory=list)  # e.g. lossy decoding

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: datetimes as ISO 8601 with offset."""
        data = asdict(self)
        if self.published_at is not None:
            data["published_at"] = self.published_at.isoformat()
        return data


class NotAnArticle(ValueError):
    """The page is not an article (list, index, empty or not HTML)."""
