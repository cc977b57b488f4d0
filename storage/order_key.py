"""Newest-first order as one integer per article: articles.order_key, copied to article_symbols.order_key.

    key = (whole seconds from 1900-01-01 UTC to published_at, + 1) << ID_BITS | id   (a dated article)
    key = id                                                                        (an undated one)

Ordering by key descending is the readers' order (storage.query): newest published second first, then newest
stored first, undated articles last. One index walked backwards serves it and stops after `limit` rows, with the
site (ix_articles_site_order_key) or the symbol (ix_article_symbols_symbol_order_key) in front; on SQLite the
search index's rowid is the key (storage.search), so a search walks its matches newest first too. Dates outside
1900–2988 share the first or the last second; ids must stay below 2**ID_BITS (268 million).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from sqlalchemy import ColumnElement, case, cast, func, literal_column
from sqlalchemy.types import BigInteger

ID_BITS = 28
MAX_ID = (1 << ID_BITS) - 1
EPOCH = datetime(1900, 1, 1, tzinfo=timezone.utc)
MAX_SECOND = (1 << (63 - ID_BITS)) - 3  # the keys of its articles and the bound after them stay below 2**63
UNIX_EPOCH_SECOND = 2_208_988_800  # 1970-01-01 in seconds from EPOCH
FIRST_DATED_KEY = 1 << ID_BITS  # keys below it are undated articles'


class OrderKeyOverflow(ValueError):
    """An article id past what the order key holds."""


def second_of(instant: datetime) -> float:
    """Seconds from EPOCH to an aware instant (fractional)."""
    return (instant - EPOCH).total_seconds()


def key_second(published_at: datetime) -> int:
    """The whole second (from EPOCH) an article's key gives it: published_at's, within 1900–2988."""
    return min(max(math.floor(second_of(published_at)), 0), MAX_SECOND)


def key_from(second: int) -> int:
    """The smallest key of an article published in this whole second (from EPOCH, 0 … MAX_SECOND + 1)."""
    return (second + 1) << ID_BITS


def second_of_key(key: int) -> int:
    """The whole second of a dated article's key."""
    return (key >> ID_BITS) - 1


def order_key(article_id: int, published_at: datetime | None) -> int:
    if not 0 < article_id <= MAX_ID:
        raise OrderKeyOverflow(
            f"article id {article_id} is past {MAX_ID:,}, the most storage.order_key holds: widen ID_BITS with a migration"
        )
    if published_at is None:
        return article_id
    return key_from(key_second(published_at)) | article_id


# Bounds of a period on the key. Exact for whole seconds within the key's years (articles' times are whole
# seconds); otherwise a superset, and the caller also compares published_at (key_bound_is_exact says when).


def lower_bound(second: int) -> int:
    """Keys of articles published in this second or later are >= it (a clamped article's are too)."""
    return key_from(min(max(second, 0), MAX_SECOND))


def upper_bound(second: int) -> int:
    """Keys of articles published before this second are < it (a clamped article's are too)."""
    return key_from(min(max(second, 1), MAX_SECOND + 1))


def key_bound_is_exact(instant: datetime) -> bool:
    """A bound at this instant selects on the key exactly what published_at would."""
    second = second_of(instant)
    return second == int(second) and 1 <= second <= MAX_SECOND


def keys_from(instant: datetime) -> int:
    """Lower bound (inclusive) of the keys of articles published at `instant` or later."""
    return lower_bound(math.floor(second_of(instant)))


def keys_before(instant: datetime) -> int:
    """Upper bound (exclusive) of the keys of articles published before `instant`."""
    return upper_bound(math.ceil(second_of(instant)))


def keys_through(instant: datetime) -> int:
    """Upper bound (exclusive) of the keys of articles published at `instant` or before: a superset whenever
    stored times may have fractions of a second."""
    return upper_bound(math.floor(second_of(instant)) + 1)


def sql_order_key(id_column: ColumnElement, published_column: ColumnElement, dialect: str) -> ColumnElement[int]:
    """The key computed by the database (a migration filling existing rows): the same as order_key()."""
    if dialect == "postgresql":
        seconds = cast(func.floor(func.extract("epoch", published_column)), BigInteger) + UNIX_EPOCH_SECOND
    else:  # SQLite stores naive UTC text; strftime('%s') gives whole seconds from 1970
        seconds = cast(func.strftime("%s", published_column), BigInteger) + UNIX_EPOCH_SECOND
    clamped = case((seconds < 0, 0), (seconds > MAX_SECOND, MAX_SECOND), else_=seconds)
    dated = ((clamped + 1) * literal_column(str(1 << ID_BITS))).op("|")(id_column)
    return case((published_column.is_(None), id_column), else_=dated)
