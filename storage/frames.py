"""The readers' API as a pandas DataFrame: ``frame(engine, site=, since=, until=, symbol=, search=, limit=100)``,
also reached as ``storage.query.frame``; its arguments, their defaults and errors are ``storage.query.query``'s
(``limit=None``: every matching article).

pandas is the readers' extra (requirements-readers.txt), never a crawl dependency: it is imported when
``frame`` is called, and a missing pandas is a storage.extras.MissingExtra (an ImportError) naming the extra.

One row per article, in ``storage.query.query``'s order (newest published first, undated last), one
column per export field (storage.query.EXPORT_FIELDS), with these dtypes:

- ``published_at``: ``datetime64[us, UTC+08:00]``, China time as ``query`` renders it; NaT when unknown;
- ``fetched_at``, ``removed_at``, ``first_seen_at``: ``datetime64[us, UTC]``; ``removed_at`` NaT unless the
  page was removed. Microseconds, not nanoseconds: the readers' dates run to 2999-12-31, past nanoseconds' 2262;
- ``authors``, ``symbols``: Python lists of str; ``images``: Python lists of {"src": str, "caption": str
  or None} (object columns; an empty list, never a missing value, when there are none);
- ``id``, ``duplicate_of``, ``removed_status``: ``Int64`` (nullable: duplicate_of is <NA> for an original,
  removed_status unless the page answered 404/410);
- every other field: pandas' ``string`` dtype (StringDtype), missing values <NA>. Chosen over object
  so that a column holds only strings, its missing values are the same <NA> as the Int64 column's,
  and the dtype is the same on pandas 2 (whose default for text is object) and pandas 3 (whose
  default ``str`` dtype marks missing text NaN).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from storage.extras import require

if TYPE_CHECKING:  # pandas is optional: only type checkers import it here
    import pandas
    from sqlalchemy import Engine

    from storage.query import Bound

LIST_FIELDS = ("authors", "images", "symbols")
TIME_UNIT = "us"


def frame(
    engine: Engine,
    *,
    site: str | None = None,
    since: Bound = None,
    until: Bound = None,
    symbol: str | None = None,
    search: str | None = None,
    limit: int | None = 100,
) -> pandas.DataFrame:
    """``storage.query.query(...)`` with the same arguments, defaults and errors, as a DataFrame (dtypes: module
    docstring). since/until: a date, an aware datetime or an ISO 8601 string; limit: at most that many rows
    (default 100, storage.query.DEFAULT_LIMIT), None for every matching article."""
    require("pandas")
    from storage.query import query  # here, not at the top: storage.query loads this module for its frame

    records = query(engine, site=site, since=since, until=until, symbol=symbol, search=search, limit=limit)
    return records_frame(records)


def records_frame(records: list[dict]) -> pandas.DataFrame:
    """Export records (storage.query.article_record) as a DataFrame with the dtypes of ``frame``."""
    pd = require("pandas")
    from storage.query import DISPLAY_TZ, EXPORT_FIELDS, INTEGER_FIELDS, UTC_FIELDS

    columns = {}
    for name in EXPORT_FIELDS:
        values = [record[name] for record in records]
        if name == "published_at" or name in UTC_FIELDS:
            zone = timezone.utc if name in UTC_FIELDS else DISPLAY_TZ
            moments = [None if value is None else datetime.fromisoformat(value) for value in values]
            columns[name] = pd.Series(moments, dtype=pd.DatetimeTZDtype(unit=TIME_UNIT, tz=zone))
        elif name in LIST_FIELDS:
            columns[name] = pd.Series([list(value or ()) for value in values], dtype=object)
        elif name in INTEGER_FIELDS:
            columns[name] = pd.Series(values, dtype="Int64")
        else:
            columns[name] = pd.Series(values, dtype="string")
    return pd.DataFrame(columns, columns=list(EXPORT_FIELDS))
