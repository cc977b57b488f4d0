"""Parsers of discovery sources (extractors/sources.py): one list answer in, its article URLs out.

Pure functions, no network: `parse(source, body, url, article_urls)` reads one answer
to a request for `url` and returns a ListPage; `first_urls(source)` gives the requests
a sweep starts with. List data is untrusted (crawler/listing.py): an item without a
usable URL costs that item (bad_items), an unusable time only that time (bad_times),
and at most `max_items` (CAIXUN_MAX_LIST_ITEMS) entries are read (the rest: capped).
An answer that is not a list page at all raises SourceError.
"""

from __future__ import annotations

from crawler.sources.model import ListedItem, ListPage, SourceError
from crawler.sources.parse import first_url, first_urls, parse

__all__ = ["ListPage", "ListedItem", "SourceError", "first_url", "first_urls", "parse"]
