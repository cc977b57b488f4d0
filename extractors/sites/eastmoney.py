"""东方财富 (eastmoney.com) news: listed through its JSON column API (SITES.md #1, #1b).

No layout: no article page has been recorded, so the generic path extracts them.
"""

from __future__ import annotations

from extractors.rules import SiteRule
from extractors.sources import JsonList

_ARTICLE = "https://finance.eastmoney.com/a/{code}.html"

RULE = SiteRule(
    name="eastmoney",
    domains=("eastmoney.com",),
    layouts=(),
    version=1,
    article_urls=(r"^https?://\w+\.eastmoney\.com/a/\d+\.html",),
    sources=(
        JsonList(  # news column 350, 50 a page, page_index from 1
            url=(
                "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?client=web&biz=web_news_col"
                "&column=350&order=1&needInteractData=0&page_index={page}&page_size=50&req_trace=caixun"
            ),
            name="350",
            items="data.list",
            url_template=_ARTICLE,
            time_field="showTime",  # "2024-05-10 14:32:05", China time
            time_unit="text",
        ),
        JsonList(  # 7x24 fast news: the answer's data.sortEnd is the next request's sortEnd
            url=(
                "https://np-weblist.eastmoney.com/comm/web/getFastNewsList?client=web&biz=web_724"
                "&fastColumn=102&sortEnd=&pageSize=50&req_trace=caixun"
            ),
            name="724:102",
            items="data.fastNewsList",
            url_template=_ARTICLE,
            time_field="showTime",
            time_unit="text",
            cursor_field="data.sortEnd",
            cursor_param="sortEnd",
        ),
    ),
)
