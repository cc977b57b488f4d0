"""证券时报网 (stcn.com): news, kuaixun (快讯) and company channel articles.

The 2018 template has no h1: the headline is the h2 of div.intal_tit, with the
time, 来源 and 作者 in the div.info under it. The page has no canonical link
(the share script's `var linkUrl` repeats the fetched URL). The 声明 disclaimer
and 为你推荐 follow the text, outside its container.
"""

from __future__ import annotations

from extractors.rules import Layout, SiteRule
from extractors.sources import JsonList

_INFO = "//div[@class='intal_tit']/div[@class='info']"

# "2019-09-26 12:11<span>来源：证券时报网</span><span>作者：李在山</span>"
V2018 = Layout(
    name="v2018",
    marker="div.intal_tit h2",
    title=("div.intal_tit h2",),
    published_at=(_INFO + "/text()",),
    source=(_INFO + "/span[starts-with(normalize-space(.), '来源')]",),
    authors=(_INFO + "/span[starts-with(normalize-space(.), '作者')]",),
    body=("div#ctrlfscont",),
)

RULE = SiteRule(
    name="stcn",
    domains=("stcn.com",),
    layouts=(V2018,),
    version=1,
    title_suffix=r"_证券时报网\s*$",
    article_urls=(
        r"^https?://\w+\.stcn\.com/(?:[\w/]+/)?\d{4}/\d{4}/\d+\.shtml",  # the 2018 template's pages
        r"^https?://www\.stcn\.com/article/detail/\d+\.html",  # what the kx list names (SITES.md #4)
    ),
    # SITES.md #4: the list page answers JSON to an XMLHttpRequest; paging not verified
    sources=(
        JsonList(
            url="https://www.stcn.com/article/list.html?type=kx",
            name="kx",
            items="data",
            url_field="url",
            time_field="time",
            time_unit="s",
            headers=(("X-Requested-With", "XMLHttpRequest"),),
        ),
    ),
)
