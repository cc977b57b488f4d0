"""Yahoo 財經 Hong Kong (hk.finance.yahoo.com) and Yahoo 新聞 HK: CaaS article pages.

A rendered page holds the article and, below it, teasers of the next stories of
the infinite scroll: only div.caas-body of the first article.caas-container is read.
The time is UTC in <time datetime>, shown in Hong Kong time; the byline names
the provider (香港電台-財經) unless a person wrote the story.
"""

from __future__ import annotations

from datetime import timedelta, timezone

from parsel import Selector

from extractors.dates import parse_datetime
from extractors.credits import person_names
from extractors.rules import Layout, SiteRule, first_text

HONG_KONG = timezone(timedelta(hours=8), "HKT")

_ARTICLE = "(//article[contains(@class,'caas-container')])[1]"
_PROVIDER = _ARTICLE + "//span[@class='caas-attr-provider']"
_BYLINE = _ARTICLE + "//div[@class='caas-attr-item-author']"
_TIME = _ARTICLE + "//div[contains(@class,'caas-attr-time-style')]/time/@datetime"


def hong_kong_time_and_byline(page: Selector, url: str) -> dict:
    """The UTC datetime attribute as Hong Kong time; byline persons, never the provider's name."""
    found: dict = {}
    if published := parse_datetime(first_text(page, (_TIME,))):
        # the page shows "上午8:21": to the minute
        found["published_at"] = published.astimezone(HONG_KONG).replace(second=0, microsecond=0)
        found["published_precision"] = "minute"
    byline = first_text(page, (_BYLINE,))
    provider = first_text(page, (_PROVIDER,))
    found["authors"] = [] if not byline or byline == provider else person_names(byline)
    return found


# Known from the 2024 fixture (CaaS, "content as a service", markup).
V2024 = Layout(
    name="v2024",
    marker="article.caas-container div.caas-body",
    title=(_ARTICLE + "//h1",),
    source=(_PROVIDER,),
    body=(_ARTICLE + "//div[@class='caas-body']",),
    extra=hong_kong_time_and_byline,
)

RULE = SiteRule(
    name="yahoo_hk",
    domains=("hk.finance.yahoo.com", "hk.news.yahoo.com"),
    layouts=(V2024,),
    version=1,
    article_urls=(r"^https?://hk\.(?:finance|news)\.yahoo\.com/news/[^/?#]+-\d{9}\.html",),
)
