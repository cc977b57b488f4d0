"""Limits on one page's extraction, and the early refusal of pages too big to parse.

A hostile or broken page must not cost the crawler more than a bounded share of
its time and memory. Before any parsing, refuse_hostile() refuses a page whose
body is larger than max_bytes (bytes as received, after any Content-Encoding
was undone; characters for a str body) and one with more than max_elements
start tags (a cheap count of "<" followed by a letter, stopped one past the
limit): the two ways the issue's bombs cost gigabytes. What remains is bounded
by extractors.sandbox, which runs extraction in worker processes under
timeout_s (wall clock per page) and memory_mb (address space of a worker).

Defaults, from the real pages (tests/fixtures, 78 pages, and the shared corpus's
raw pages, 131; the ScrapingHub AEB pages, 181, as a check), measured on the
2-core development machine:

  largest page       905 KB (AEB: 1.49 MB)   max_bytes     8 MiB    (~9x)
  most start tags    7,941  (AEB: 1,737)     max_elements  100,000  (~12x)
  slowest page       0.70 s                  timeout_s     30 s     (~40x)
  most memory        +62 MiB over an idle    memory_mb     1,024 MiB (an idle worker holds ~55 MiB
                     worker (peak RSS)                              of address space: ~9x a real page's need)

A page at the element limit (100,000 short paragraphs, generic path) takes about
12 s and 275 MiB: inside the time and memory limits. The issue's bombs (2 million
<p>, 16 MB; 1.5 million <p> on the generic path) are refused by the element count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

MIB = 1024 * 1024

_START_TAG_BYTES = re.compile(rb"<[a-zA-Z]")  # "<" is never a trail byte of GBK, GB18030, Big5 or UTF-8
_START_TAG_TEXT = re.compile(r"<[a-zA-Z]")


@dataclass(frozen=True)
class ExtractionLimits:
    """What one page's extraction may cost; every limit must be positive."""

    max_bytes: int = 8 * MIB
    max_elements: int = 100_000
    timeout_s: float = 30.0
    memory_mb: int = 1024

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_elements", "timeout_s", "memory_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"extraction limit {name} must be positive, got {getattr(self, name)!r}")


class PageRefused(Exception):
    """The page was refused before parsing; reason is extract_too_large or extract_too_many_elements."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def size_refusal(size: int, limits: ExtractionLimits) -> PageRefused | None:
    if size > limits.max_bytes:
        return PageRefused(
            "extract_too_large", f"the page is {size:,} bytes, over the limit of {limits.max_bytes:,} bytes to parse"
        )
    return None


def count_start_tags(body: bytes | str, stop_after: int) -> int:
    """Start tags in the body, counted up to stop_after (a page at the limit costs no more than that)."""
    pattern = _START_TAG_BYTES if isinstance(body, bytes) else _START_TAG_TEXT
    return sum(1 for _ in islice(pattern.finditer(body), stop_after))


def refuse_hostile(body: bytes | str, limits: ExtractionLimits) -> None:
    """Raise PageRefused for a page too large or with too many elements to parse."""
    refusal = size_refusal(len(body), limits)
    if refusal is not None:
        raise refusal
    if count_start_tags(body, limits.max_elements + 1) > limits.max_elements:
        raise PageRefused(
            "extract_too_many_elements",
            f"the page has more than {limits.max_elements:,} elements (start tags), too many to parse",
        )
