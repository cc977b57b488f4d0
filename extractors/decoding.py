"""Bytes to text, the way Scrapy/w3lib does it, plus a check for lying declarations.

Order: BOM, HTTP charset, <meta> charset, detection (w3lib), with gb2312/gbk
read as GB18030. A declared UTF-8 that does not decode cleanly while GB18030
does is treated as GB18030: Sina pages exist whose meta says utf-8 over GBK bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from w3lib.encoding import html_to_unicode

REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class DecodedHtml:
    text: str
    encoding: str
    lossy: bool  # replacement characters had to be used


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes | str, content_type: str | None = None) -> DecodedHtml:
    if isinstance(body, str):
        return DecodedHtml(body, "unicode", False)
    encoding, text = html_to_unicode(content_type, body)
    if REPLACEMENT in text and text.count(REPLACEMENT) > body.count(REPLACEMENT.encode()):
        for candidate in ("utf-8", "gb18030", "big5"):
            if candidate == encoding:
                continue
            strict = _strict(body, candidate)
            if strict is not None:
                return DecodedHtml(strict, candidate, False)
        return DecodedHtml(text, encoding, True)
    return DecodedHtml(text, encoding, False)
