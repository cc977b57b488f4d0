"""What a reader's query asks for besides a search (site, period, symbol), read newest first through the
order key (storage.order_key): one index walked backwards, stopping after `limit` rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from storage.models import ArticleSymbol, StoredArticle
from storage.order_key import EPOCH, FIRST_DATED_KEY, keys_before, keys_from, second_of_key

CHINA = timezone(timedelta(hours=8))  # the sites' zone: days are China-time days


def midnight(day: date) -> datetime:
    """The start of a China-time day, as an aware datetime."""
    return datetime.combine(day, time(), CHINA)


def day_keys(first: date, last: date) -> tuple[int, int]:
    """Key bounds (low inclusive, high exclusive) of the China-time days first..last."""
    return keys_from(midnight(first)), keys_before(midnight(last + timedelta(days=1)))


def key_day(key: int) -> date:
    """The China-time day of a dated article's key."""
    return (EPOCH + timedelta(seconds=second_of_key(key))).astimezone(CHINA).date()


@dataclass(frozen=True)
class Scope:
    site: str | None = None
    low: int | None = None  # order_key >= low (a date bound: dated articles only)
    high: int | None = None  # order_key < high
    exact: tuple[ColumnElement[bool], ...] = ()  # published_at bounds where the key bounds are a superset
    symbol: str | None = None

    @property
    def takes_undated(self) -> bool:
        return self.low is None

    def conditions(self, key: ColumnElement[int], *, symbol_exists: bool = False) -> list[ColumnElement[bool]]:
        """The scope as conditions on an order key column (articles', the symbols', the search index's rowid);
        with symbol_exists, the symbol as an EXISTS condition rather than the join of newest()."""
        found = [StoredArticle.site == self.site] if self.site else []
        if self.low is not None:
            found.append(key >= self.low)
        if self.high is not None:
            found.append(key < self.high)
        if self.symbol and symbol_exists:
            found.append(
                exists().where(ArticleSymbol.article_id == StoredArticle.id, ArticleSymbol.symbol == self.symbol)
            )
        return found + list(self.exact)

    def newest(self) -> Select:
        """The scope's articles, newest first (a symbol's through its own (symbol, order_key) index)."""
        if self.symbol:
            return (
                select(StoredArticle)
                .join(ArticleSymbol, ArticleSymbol.article_id == StoredArticle.id)
                .where(ArticleSymbol.symbol == self.symbol, *self.conditions(ArticleSymbol.order_key))
                .order_by(ArticleSymbol.order_key.desc())
            )
        return select(StoredArticle).where(*self.conditions(StoredArticle.order_key)).order_by(StoredArticle.order_key.desc())

    def dated_days(self, session: Session) -> tuple[date, date] | None:
        """The first and last China-time day of the scope's dated articles (of its site, of any symbol), or None.
        For PostgreSQL's search (storage.search)."""
        key = StoredArticle.order_key
        within = [key >= max(self.low or 0, FIRST_DATED_KEY)]
        if self.high is not None:
            within.append(key < self.high)
        if self.site:
            within.append(StoredArticle.site == self.site)
        oldest, newest = session.execute(select(func.min(key), func.max(key)).where(*within)).one()  # PostgreSQL:
        # each from the index (SQLite would scan for the pair; its search needs no days)
        if oldest is None or newest is None:
            return None
        return key_day(oldest), key_day(newest)
