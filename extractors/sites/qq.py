"""Tencent (腾讯网, qq.com): new.qq.com/rain/a/ articles and the channel /a/ pages of 2016–2019.

Templates by era, newest first; a marker picks one. Layout names carry the
earliest year the template is known from in the fixtures. Some old pages
declare gb2312 but were stored as UTF-8; decoding sorts that out.
"""

from __future__ import annotations

import re

from extractors.rules import Layout, SiteRule
from extractors.sources import Sitemap

# --- new.qq.com/rain/a/<id>: paragraphs are div.qnt-p ------------------------------

# The page's first h1 is the "全新首页 焕新登场" home-guide popup: read the one in the article.
_V2024_TITLE = ("div.content-article h1",)
_V2024_BODY = ("div.content-article #ArticleContent",)
_V2024_DROP = (".image-carousel",)  # the empty picture carousel (hidden)


V2024 = Layout(
    name="v2024",
    marker="div.content-article #ArticleContent",
    title=_V2024_TITLE,
    # "2024-05-13 06:16 | 发布于北京 | 经济日报官方账号": the time is the first span
    published_at=("//p[@class='media-meta']/span[1]",),
    source=("div.content-article p.media-name",),  # the publishing account
    body=_V2024_BODY,
    drop=_V2024_DROP,
)

# --- channel pages (finance/tech.qq.com/a/<yyyymmdd>/<id>.htm) ---------------------

_ARTICLE = "#Cnt-Main-Article-QQ"
# "《棱镜》作者 周纯": a column's byline paragraph after the 划重点 box
_BYLINE = "p[contains(., '作者')][string-length(normalize-space(.)) <= 20][not(contains(., '，') or contains(., '。'))]"

# qq_article template: div.hd h1, span.a_source / span.a_time, the editor in #QQeditor.
V2019 = Layout(
    name="v2019",
    marker="div.qq_article " + _ARTICLE,
    title=("div.qq_article div.hd h1",),
    published_at=("div.a_Info span.a_time",),
    source=("div.a_Info span.a_source",),
    authors=(f"//div[@id='Cnt-Main-Article-QQ']/{_BYLINE}",),
    editor=("#QQeditor",),
    body=(_ARTICLE,),
    drop=(
        "./" + _BYLINE,
        "a#backqqcom",  # 返回腾讯网首页>> with its favicon, inside the last paragraph
    ),
    caption="../following-sibling::*[1][contains(@class,'image_desc')]",
)

# Stock tips: <span onmouseover='ShowInfo(this,"GOOG.OQ",…)'> around a company name.
_STOCK_TIPS = ("span[onmouseover*='ShowInfo']::attr(onmouseover)",)
_STOCK_CODE = re.compile(r"ShowInfo\(\s*this\s*,\s*[\"'](?P<code>[\w.]+)[\"']")
_US_CODE = re.compile(r"^(?P<ticker>[A-Za-z.]+)\.(?:OQ|N|O|A)$")  # NASDAQ, NYSE, AMEX
_HK_CODE = re.compile(r"^(?P<code>\d{1,5})\.HK$", re.I)
_CN_CODE = re.compile(r"^(?:(?P<market>sh|sz)(?P<code>\d{6})|(?P<code2>\d{6})\.(?P<market2>SH|SZ|SS))$", re.I)


def stock_tip_symbol(onmouseover: str) -> str | None:
    """'ShowInfo(this,"GOOG.OQ",…)' → 'usGOOG'; '00700.HK' → 'hk00700'; 'sh600000' / '600000.SH' → 'sh600000'."""
    match = _STOCK_CODE.search(onmouseover)
    code = match.group("code") if match else ""
    if us := _US_CODE.match(code):
        return "us" + us.group("ticker").upper()
    if hk := _HK_CODE.match(code):
        return "hk" + hk.group("code").zfill(5)
    if cn := _CN_CODE.match(code):
        market = (cn.group("market") or cn.group("market2")).lower().replace("ss", "sh")
        return market + (cn.group("code") or cn.group("code2"))
    return None


_V2016_TITLE = ("div.hd h1",)
# The "(微博)" keyword link to the company's t.qq.com account: the brackets are outside
# the link, and go once it is dropped ("谷歌(微博) 在" → "谷歌 在").
_WEIBO_LINK = ".//a[contains(@href, 't.qq.com/')][normalize-space(.)='微博']"
# The titBar template's text: the picture's 转播到腾讯微博 button, 精彩视频推荐 with the
# related-video player, the copyright line and the hidden 转播至微博 tip are not article.
_V2016_DROP = (
    ".mbArticleShareBtn",
    "./p[normalize-space(.)='精彩视频推荐']",
    ".rv-root-v2",
    "./p[contains(., '未经授权')]",
    "#tipsWBzf",
    _WEIBO_LINK,
)


# titBar template: div.hd h1, span.where (source) and span.pubTime, [责任编辑：…] in div.QQeditor.
V2016 = Layout(
    name="v2016",
    marker="div.titBar span.pubTime",
    title=_V2016_TITLE,
    published_at=("div.titBar span.pubTime",),
    source=("div.titBar span.where",),
    editor=("div.QQeditor",),
    body=(_ARTICLE,),
    drop=_V2016_DROP,
    symbols=_STOCK_TIPS,
    symbol_from=stock_tip_symbol,
)

RULE = SiteRule(
    name="qq",
    domains=("qq.com",),
    layouts=(V2024, V2019, V2016),
    version=1,
    title_suffix=r"_(?:腾讯新闻|[^_]{1,8}_腾讯网)$",
    article_urls=(
        r"^https?://(?:new|news)\.qq\.com/rain/a/\d{8}[0-9A-Z]{8}",
        r"^https?://[a-z]+\.qq\.com/a/\d{8}/\d{6}\.htm",
    ),
    sources=(Sitemap("https://news.qq.com/sitemap/index.xml"),),  # SITES.md #6, said to be in robots.txt
)
