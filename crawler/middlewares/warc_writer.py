"""WarcWriterMiddleware: archive every fetched response as gzip WARC.

Settings read:
  WARC_DIR                 folder for the archives; empty disables
  CAIXUN_WARC_MAX_BYTES    start a new file once the current one is this big

One run writes caixun-<spider>-<UTC start>-<host>-<pid>-<serial>.warc.gz files
(host and pid: workers on several machines may share one WARC folder), each
opening with a warcinfo record; every fetch adds a `request` and a `response`
record. It sits next to the downloader, so it archives the bytes as received
(still content-encoded) with their real headers. Replayed responses are not
archived again. Where each response went is put in response.meta["warc"]
({"file", "offset"}) for provenance.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.folders import writable_folder
from crawler.middlewares.warc_replay import REPLAYED_FLAG

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Scrapy has already undone chunking; keeping the header would make readers de-chunk again.
_HOP_BY_HOP = {"transfer-encoding", "connection", "keep-alive"}


def _http_headers(headers) -> list[tuple[str, str]]:
    pairs = []
    for key, values in headers.items():
        name = key.decode("latin-1")
        if name.lower() in _HOP_BY_HOP:
            continue
        pairs.extend((name, v.decode("latin-1")) for v in values)
    return pairs


class WarcWriterMiddleware:
    def __init__(self, directory: Path, max_bytes: int, spider_name: str, stats) -> None:
        self.stats = stats
        self.directory = directory
        self.max_bytes = max_bytes
        host = re.sub(r"[^A-Za-z0-9.-]+", "_", socket.gethostname()) or "host"
        self.prefix = f"caixun-{spider_name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{host}-{os.getpid()}"
        self.serial = -1
        self.stream = None
        self.writer: WARCWriter | None = None
        self.path: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcWriterMiddleware:
        directory = crawler.settings.get("WARC_DIR")
        if not directory:
            raise NotConfigured  # no reason given: an unset option is not worth a warning
        spider_name = crawler.spidercls.name if crawler.spidercls else "crawl"
        middleware = cls(
            writable_folder(directory, "WARC", "WARC_DIR"),  # refuse to start rather than fail on every response
            crawler.settings.getint("CAIXUN_WARC_MAX_BYTES", 1024**3),
            spider_name,
            crawler.stats,
        )
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def _open_next(self) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.serial += 1
        self.path = self.directory / f"{self.prefix}-{self.serial:05d}.warc.gz"
        self.stream = self.path.open("xb")
        self.writer = WARCWriter(self.stream, gzip=True)
        info = self.writer.create_warcinfo_record(
            self.path.name, {"software": f"caixun (Scrapy {scrapy.__version__})", "format": "WARC File Format 1.1"}
        )
        self.writer.write_record(info)
        logger.info("writing WARC %s", self.path)
        self.stats.inc_value("caixun/warc/files")

    def process_response(self, request: Request, response: Response) -> Response:
        if REPLAYED_FLAG in response.flags:
            return response
        if self.writer is None or self.stream.tell() >= self.max_bytes:
            self._open_next()
        writer = self.writer
        request_headers = StatusAndHeaders(
            f"{request.method} {request.url} HTTP/1.1", _http_headers(request.headers), is_http_request=True
        )
        request_record = writer.create_warc_record(
            request.url, "request", payload=BytesIO(request.body or b""), http_headers=request_headers
        )
        status_line = f"{response.status} {_reason(response.status)}"
        response_headers = StatusAndHeaders(status_line, _http_headers(response.headers), protocol="HTTP/1.1")
        warc_headers = {}
        if response.ip_address is not None:
            warc_headers["WARC-IP-Address"] = str(response.ip_address)
        response_record = writer.create_warc_record(
            response.url,
            "response",
            payload=BytesIO(response.body),
            http_headers=response_headers,
            warc_headers_dict=warc_headers,
        )
        response_record.rec_headers.add_header(
            "WARC-Concurrent-To", request_record.rec_headers.get_header("WARC-Record-ID")
        )
        writer.write_record(request_record)
        offset = self.stream.tell()
        writer.write_record(response_record)
        self.stream.flush()
        request.meta["warc"] = {"file": str(self.path.resolve()), "offset": offset}  # found again by reextract
        self.stats.inc_value("caixun/warc/records")
        return response

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
            self.writer = None

    def spider_closed(self) -> None:
        self.close()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
