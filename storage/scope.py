"""What a reader's query asks for besides a search (site, period, symbol), read newest first through the
order key (storage.order_key): one index walked backwards, stopping after `limit` rows.

A reader's site and symbol are checked here: ``check_site`` refuses a site neither a site rule nor the store
knows (UnknownSite, listing the known ones), ``symbol_candidates`` reads a symbol as the store writes it
(BadSymbol when it cannot be one): a bare A-share code stands for every exchange's.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from storage.models import ArticleSymbol, StoredArticle
from storage.order_key import EPOCH, FIRST_DATED_KEY, keys_before, keys_from, second_of_key

CHINA = timezone(timedelta(hours=8))  # the sites' zone: days are China-time days
A_SHARE_MARKETS = ("sh", "sz", "bj")  # Shanghai, Shenzhen, Beijing: a bare 6-digit code may be any of them
SYMBOL_EXAMPLES = "sh600519, sz000001, bj430047, hk00700 or usAAPL"


class UnknownSite(ValueError):
    """A site that no site rule names and no stored article has; the message lists the known sites."""


class BadSymbol(ValueError):
    """A symbol the store cannot hold in any form; the message says how symbols are written."""


def rule_sites() -> frozenset[str]:
    """The sites articles are stored under: each site rule's name, and "generic" (extractors.registry)."""
    from extractors.registry import site_names  # imports every site rule: only when a site is asked for

    return site_names()


def check_site(session: Session, site: str) -> str:
    """The site, if a site rule names it or a stored article has it (an older store's site); else UnknownSite
    naming the known sites (the rules', "generic", the store's) and the closest one."""
    known = rule_sites()
    if site in known:
        return site
    if session.scalar(select(StoredArticle.id).where(StoredArticle.site == site).limit(1)) is not None:
        return site
    raise unknown_site(site, known | set(session.scalars(select(StoredArticle.site).distinct())))


def unknown_site(site: str, known: Iterable[str]) -> UnknownSite:
    """The error for a site not among `known`, naming the closest one and listing them all."""
    known = sorted(known)
    close = difflib.get_close_matches(site, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return UnknownSite(f"unknown site {site!r}{hint}; known sites: {', '.join(known)}")


_BARE_A_SHARE = re.compile(r"[0-9]{6}")
_BARE_HK = re.compile(r"[0-9]{5}")
_SUFFIXED = re.compile(r"(?P<code>[0-9]{6})\.(?P<market>sh|ss|sz|bj)|(?P<hk>[0-9]{1,5})\.hk", re.IGNORECASE)


def symbol_candidates(symbol: str) -> tuple[str, ...]:
    """The stored symbols `symbol` may mean, as the extractors write them (market and code, e.g. "sh600519"):

    - a bare 6-digit A-share code ("600519"): the code on each of A_SHARE_MARKETS (sh600519, sz600519,
      bj600519); a bare 5-digit code ("00700"): Hong Kong's (hk00700);
    - "600519.SH" (also .SS, .SZ, .BJ) and "700.HK": sh600519, hk00700;
    - a market and code in any case ("SH600519", "usaapl"): as stored (sh600519, usAAPL).

    Full-width characters count as their ASCII forms (６００５１９ is 600519). Anything else is a BadSymbol
    saying how to write one.
    """
    from extractors.clean import normalize_symbol

    text = unicodedata.normalize("NFKC", symbol).strip()
    if _BARE_A_SHARE.fullmatch(text):
        return tuple(market + text for market in A_SHARE_MARKETS)
    if _BARE_HK.fullmatch(text):
        return ("hk" + text,)
    if found := _SUFFIXED.fullmatch(text):
        if found["hk"]:
            return ("hk" + found["hk"].zfill(5),)
        return (found["market"].lower().replace("ss", "sh") + found["code"],)
    if normalized := normalize_symbol(text[:2].lower() + text[2:]):
        return (normalized,)
    raise BadSymbol(
        f"symbol {symbol!r} is not written as the store writes symbols: give a market and a code, e.g. "
        f"{SYMBOL_EXAMPLES}, or a bare A-share code (600519 finds it on any of {', '.join(A_SHARE_MARKETS)})"
    )


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
