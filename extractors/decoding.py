"""Bytes to text, the way Scrapy/w3lib does it, plus a check for lying declarations.

Order: BOM, HTTP charset, <meta> charset, detection (w3lib), with gb2312/gbk
read as GB18030 whatever name w3lib gives them (w3lib 2.6 answers "gbk" for a
gb2312 label, 2.5 answered "gb18030"): GB18030 is their superset, and pages
labelled gb2312 hold characters only GB18030 has, some of four bytes. A declared UTF-8 that does not decode cleanly while GB18030
does is treated as GB18030: Sina pages exist whose meta says utf-8 over GBK bytes.
A handful of replacements (at most 3, or one per 1,000 non-ASCII bytes) means
a few bad bytes in the right encoding and is kept. More means a wrong guess:
then an encoding that decodes cleanly wins, else the one needing the fewest
replacements (a GBK page without a declaration and with one stray byte decodes
as GB18030 with one U+FFFD, not as UTF-8 with thousands).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from w3lib.encoding import html_to_unicode

REPLACEMENT = "\ufffd"
# tried, in this order, when the chosen encoding needed replacements
CANDIDATES = ("utf-8", "gb18030", "big5")
# read as GB18030, their superset (Python's codec names, after codecs.lookup)
GB18030_SUBSETS = frozenset({"gb2312", "gbk"})


@dataclass(frozen=True)
class DecodedHtml:
    text: str
    encoding: str
    lossy: bool  # replacement characters had to be used
    replacements: int = 0  # U+FFFD the decoding introduced (not those the page itself holds)

    @property
    def warning(self) -> str | None:
        if not self.lossy:
            return None
        return f"lossy decoding as {self.encoding}: {self.replacements} undecodable byte sequence(s) replaced"


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _w3lib_decoding(body: bytes, content_type: str | None) -> tuple[str, str]:
    """w3lib's choice of encoding and its text, except that a GB2312/GBK choice is read as GB18030."""
    encoding, text = html_to_unicode(content_type, body)
    if _codec(encoding) in GB18030_SUBSETS:
        return "gb18030", body.decode("gb18030", errors="replace")
    return encoding, text


def decode_html(body: bytes | str, content_type: str | None = None) -> DecodedHtml:
    if isinstance(body, str):
        return DecodedHtml(body, "unicode", False)
    own = body.count(REPLACEMENT.encode())  # U+FFFD written in the page's own UTF-8 text
    encoding, text = _w3lib_decoding(body, content_type)
    added = text.count(REPLACEMENT) - own
    if added <= 0:
        return DecodedHtml(text, encoding, False)
    if added <= max(3, sum(byte >= 0x80 for byte in body) // 1000):
        # a few bad bytes in the right encoding; another encoding would garble the rest
        return DecodedHtml(text, encoding, True, added)
    best = (added, encoding, text)
    for candidate in CANDIDATES:
        if candidate == encoding:
            continue
        strict = _strict(body, candidate)
        if strict is not None:
            return DecodedHtml(strict, candidate, False)
        lossy = body.decode(candidate, errors="replace")
        count = lossy.count(REPLACEMENT) - own
        if count < best[0]:
            best = (count, candidate, lossy)
    count, encoding, text = best
    return DecodedHtml(text, encoding, True, count)
