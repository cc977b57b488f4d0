"""Duplicate detection that works on Chinese: content hashes and SimHash over character shingles.

- content_hash: sha256 of the body without white space and punctuation; the
  same story reached through desktop, mobile and self-media URLs, or syndicated
  verbatim, hashes the same.
- fingerprint: a 64-bit SimHash of the body's character 4-grams (Chinese has no
  spaces, so words will not do). Bodies within NEAR_DUPLICATE_BITS bits of each
  other are near duplicates: the same story with a different credit line,
  caption or trailing sentence. Stored signed (BIGINT), with four 16-bit bands:
  two fingerprints within 3 bits agree on at least one band (pigeonhole), so a
  band lookup finds every candidate without scanning.
"""

from __future__ import annotations

import hashlib
import re
import zlib

SHINGLE = 4
NEAR_DUPLICATE_BITS = 3  # measured on the corpus: see tests/test_fingerprint.py
MIN_LENGTH = 50  # characters of text: shorter bodies say too little to call two stories the same
_NOT_TEXT = re.compile(r"[\W_]+")


def normalized(body: str) -> str:
    return _NOT_TEXT.sub("", body)


def content_hash(body: str) -> str:
    return hashlib.sha256(normalized(body).encode("utf-8")).hexdigest()


def sampled_rows(shingles: set[str], keep_mask: int) -> list[str]:
    """64-bit hashes (as bit strings) of a content-defined sample of the shingles.

    Two CRC-32s make the 64 bits at C speed; keeping the shingles whose first
    CRC is 0 under keep_mask (a quarter of them) keeps the fingerprint stable
    and the cost low.
    """
    rows = []
    for shingle in shingles:
        data = shingle.encode("utf-8")
        low = zlib.crc32(data)
        if low & keep_mask == 0:
            rows.append(format((zlib.crc32(data, 0x9E3779B9) << 32) | low, "064b"))
    return rows


def simhash(body: str) -> int:
    """64-bit SimHash (unsigned) of the body's distinct character shingles; 0 for an empty body."""
    text = normalized(body)
    if not text:
        return 0
    shingles = {text[i : i + SHINGLE] for i in range(max(len(text) - SHINGLE + 1, 1))}
    rows = sampled_rows(shingles, 3) or sampled_rows(shingles, 0)  # short texts: all shingles
    half = len(rows) / 2
    value = 0
    for column in zip(*rows):  # column-wise counts in C: zip transposes the bit strings
        value = (value << 1) | (column.count("1") > half)
    return value


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def bands(value: int) -> tuple[int, int, int, int]:
    """Four 16-bit bands of an unsigned fingerprint."""
    return tuple((value >> shift) & 0xFFFF for shift in (48, 32, 16, 0))  # type: ignore[return-value]


def distance(a: int, b: int) -> int:
    return (to_unsigned(a) ^ to_unsigned(b)).bit_count()

