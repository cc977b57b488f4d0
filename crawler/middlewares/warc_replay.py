"""WarcReplayMiddleware: answer every request from WARC archives, never the network.

Settings read:
  REPLAY_WARC   comma-separated WARC paths (.warc or .warc.gz); empty disables

Requests are matched to `response` records by URL with query-parameter order
ignored (w3lib canonicalize_url); when a URL was archived more than once the
last record wins. A URL missing from the archives gets an empty 404, so a
replayed crawl never touches the network. Bodies come back as the server sent
them minus transfer and content encodings (warcio decodes both).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

REPLAYED_FLAG = "replayed"
_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def replay_key(url: str) -> str:
    return canonicalize_url(url, keep_fragments=False)


class WarcIndex:
    """URL → (file, offset) of the last `response` record for it, across archives."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.offsets: dict[str, tuple[Path, int]] = {}
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"REPLAY_WARC: no such file: {path}")
            with path.open("rb") as stream:
                records = ArchiveIterator(stream)
                for record in records:
                    if record.rec_type == "response":
                        uri = record.rec_headers.get_header("WARC-Target-URI")
                        if uri:
                            self.offsets[replay_key(uri)] = (path, records.get_record_offset())

    def __len__(self) -> int:
        return len(self.offsets)

    def response_for(self, request: Request) -> Response | None:
        found = self.offsets.get(replay_key(request.url))
        if found is None:
            return None
        path, offset = found
        with path.open("rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            body = record.content_stream().read()
            status = int(record.http_headers.get_statuscode() or 200)
            headers = Headers(
                [(k, v) for k, v in record.http_headers.headers if k.lower() not in _DROPPED_HEADERS]
            )
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=status, headers=headers, body=body, request=request, flags=[REPLAYED_FLAG])


class WarcReplayMiddleware:
    def __init__(self, index: WarcIndex) -> None:
        self.index = index

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcReplayMiddleware:
        paths = [Path(p.strip()) for p in crawler.settings.getlist("REPLAY_WARC") if p.strip()]
        if not paths:
            raise NotConfigured  # no reason given: an unset option is not worth a warning
        index = WarcIndex(paths)
        logger.info("replaying %d archived responses from %s; the network is not used", len(index),
                    ", ".join(map(str, paths)))  # fmt: skip
        crawler.stats.set_value("caixun/replay/archived_urls", len(index))
        return cls(index)

    def process_request(self, request: Request) -> Response:
        response = self.index.response_for(request)
        if response is None:
            logger.debug("not in the replay archives: %s", request.url)
            return Response(url=request.url, status=404, body=b"", request=request, flags=[REPLAYED_FLAG])
        return response
