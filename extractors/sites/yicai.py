"""第一财经 (yicai.com): listed through its latest-news JSON (SITES.md #2); paid items skipped.

No layout: no article page has been recorded, so the generic path extracts them.
"""

from __future__ import annotations

from extractors.rules import SiteRule
from extractors.sources import JsonList

RULE = SiteRule(
    name="yicai",
    domains=("yicai.com",),
    layouts=(),
    version=1,
    article_urls=(r"^https?://www\.yicai\.com/news/\d+\.html",),
    sources=(
        JsonList(
            url="https://www.yicai.com/api/ajax/getlatest?page={page}&pagesize=30",
            name="latest",
            items="",  # the answer is the array
            url_field="url",  # a path: "/news/102345678.html"
            title_field="NewsTitle",
            time_field="CreateDate",  # "2024-05-10T14:32:05", China time
            time_unit="text",
            skip=(("AppID", 0),),  # paid (VIP) items
        ),
    ),
)
