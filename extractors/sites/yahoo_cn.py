"""Yahoo 中国 财经 (cn.biz.yahoo.com): 2005–2006 table-layout article pages, GB2312.

Two templates served side by side (both fixtures were fetched in December 2006;
older articles kept the older one). The header line "2005-02-06 13:26更新
来源：转载文章" holds the only time shown; "转载文章" means "reprint", and the
outlet is named by the closing "来源：新华网" or "转自《北京科技报》" line.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from parsel import Selector

from extractors.article import Image
from extractors.clean import normalize_space
from extractors.rules import Layout, SiteRule

# normalize-space() leaves U+3000, which indents every paragraph of these pages
_TEXT = "normalize-space(translate(., '\u3000\u00a0', '  '))"
# "延伸阅读：<a>…</a>" inside a body <p>, and the link-only <p>s under it
_FURTHER_READING = f"p[starts-with({_TEXT}, '延伸阅读')]"
_LINK_ONLY = f"p[a][not(text()[{_TEXT}])]"
_CLOSING_SOURCE = f"p[starts-with({_TEXT}, '转自《')]"  # 转自《北京科技报》
_CAPTION_LINE = f"p[starts-with({_TEXT}, '[图片说明')]"  # [图片说明1：漫画/冷洁]
_PICTURE_LINK = "a[contains(@href, '/pic/enlarge/')]"  # the thumbnail and "点击看大图"
_REPRINT = "转载文章"  # the header's 来源 for a reprint, not an outlet

_CLOSING_SOURCE_TEXT = re.compile(r"^转自《(?P<source>[^《》]+)》$")
_CAPTION_TEXT = re.compile(r"^\[图片说明(?P<number>\d+)[:：]\s*(?P<caption>.+?)\s*\]$")


def closing_credits(page: Selector, url: str) -> dict:
    """The lines closing the text: 转自《…》 → source, [图片说明N：…] → picture N's caption.

    The pictures are the thumbnails linked to the enlarge page; a caption line
    names its picture by number, which a caption XPath cannot map (and its
    "[图片说明1：" wrapper is not caption text).
    """
    found: dict = {}
    for line in page.xpath("//" + _CLOSING_SOURCE):
        if match := _CLOSING_SOURCE_TEXT.match(normalize_space(line.xpath("string()").get())):
            found["source"] = match.group("source")
    captions = {}
    for line in page.xpath("//" + _CAPTION_LINE):
        if match := _CAPTION_TEXT.match(normalize_space(line.xpath("string()").get())):
            captions[int(match.group("number"))] = match.group("caption")
    pictures = page.xpath("//" + _PICTURE_LINK + "/img/@src").getall()
    if pictures:
        found["images"] = [
            Image(src=urljoin(url, src), caption=captions.get(number)) for number, src in enumerate(pictures, 1)
        ]
    return found


# 2006 template: div#detail_l, headline div.title, "… 13:26更新 来源：转载文章" in td.fhui,
# the text in p.text with the 今日焦点 / ad table floated between paragraphs.
_V2006_BODY = "//div[@id='detail_l']"
_V2006_DATELINE = "//div[@id='detail_l']//td[contains(@class,'fhui')][contains(., '更新')]"
V2006 = Layout(
    name="v2006",
    marker="div#detail_l div.title",
    title=("div#detail_l div.title",),
    published_at=(_V2006_DATELINE,),
    source=(f"(substring-after({_V2006_DATELINE}, '来源：'))",),
    body=(_V2006_BODY,),
    drop=("./*[not(self::p)]", "./" + _CLOSING_SOURCE, "./" + _CAPTION_LINE),
    extra=closing_credits,
)

# 2005 template: the headline a 20px <b> in the first table of td[width=565], the
# dateline in td.ygg under it, then unclosed <p>s with tables among them (点击阅读更多,
# the picture, 推荐阅读, 相关报道, pagination, promos).
_V2005_HEADLINE = "//td[@width='565']/table[1]//b[contains(@style,'font-size:20px')]"
_V2005_BODY = _V2005_HEADLINE + "/ancestor::td[@width='565'][1]"
_V2005_DATELINE = _V2005_BODY + "/table[1]//td[@class='ygg'][contains(., '更新')]"
V2005 = Layout(
    name="v2005",
    marker=_V2005_HEADLINE,
    title=(_V2005_HEADLINE,),
    published_at=(_V2005_DATELINE,),
    source=(f"(substring-after({_V2005_DATELINE}, '来源：'))",),
    body=(_V2005_BODY,),
    drop=(
        f"./*[not(self::p)][not(.//{_PICTURE_LINK}/img)]",  # tables, promos, <br>s: all but the picture
        f".//{_PICTURE_LINK}[not(img)]",  # 点击看大图
        ".//img[contains(@src, 'zoom.gif')]",
        f"./{_FURTHER_READING}/following-sibling::{_LINK_ONLY}",
        "./" + _FURTHER_READING,
        "./" + _CLOSING_SOURCE,
        "./" + _CAPTION_LINE,
    ),
    extra=closing_credits,
)

RULE = SiteRule(
    name="yahoo_cn",
    domains=("cn.biz.yahoo.com",),
    layouts=(V2006, V2005),
    version=1,
    platform_labels=frozenset({_REPRINT}),
    article_urls=(r"^https?://cn\.biz\.yahoo\.com/\d{6}/\d+/\w{4}\.html",),
)
