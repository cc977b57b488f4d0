"""明日大盘网 (mingridapan.com): stock-market news and column posts.

The page's only h1 is the logo text; the headline is div.title-text. The author
box under the text names a column account (股市行情 / 行情实时播报), not a person,
so it is not read.
"""

from __future__ import annotations

from extractors.rules import Layout, SiteRule

# Known from the 2019 fixture (shishi/news/637863.html).
V2019 = Layout(
    name="v2019",
    marker="div.page_art_title div.title-text",
    title=("div.page_art_title div.title-text",),
    published_at=("div.title-meta-time",),  # 发布时间： 2019-09-26 10:09:11
    body=("div.page_art_content",),
)

RULE = SiteRule(
    name="mingridapan",
    domains=("mingridapan.com",),
    layouts=(V2019,),
    version=1,
    title_suffix=r"^[^-]*--",  # <title>明日股市预测--headline</title>
    article_urls=(r"^https?://www\.mingridapan\.com/[a-z]+(?:/[a-z]+)?/\d+\.html",),
)
