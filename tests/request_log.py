"""A downloader middleware for tests: every request as the downloader would send it, one JSON line each.

Enable with -s DOWNLOADER_MIDDLEWARES='{"tests.request_log.RequestLog": 940}' -s REQUEST_LOG=path
(940: after the project's own middlewares have set their headers, before WARC replay answers).
"""

from __future__ import annotations

import base64
import json

from scrapy.exceptions import NotConfigured


class RequestLog:
    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("REQUEST_LOG")
        if not path:
            raise NotConfigured
        return cls(path)

    def process_request(self, request):
        record = {
            "method": request.method,
            "url": request.url,
            "headers": {k.decode().lower(): b", ".join(v).decode() for k, v in request.headers.items()},
            "body": base64.b64encode(request.body or b"").decode(),
            "slot": request.meta.get("download_slot"),
            "fixed_delay": request.meta.get("autothrottle_dont_adjust_delay", False),
        }
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")


def read(path) -> dict[str, list[dict]]:
    """URL → the logged requests for it, body decoded to bytes."""
    found: dict[str, list[dict]] = {}
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        record["body"] = base64.b64decode(record["body"])
        found.setdefault(record["url"], []).append(record)
    return found
