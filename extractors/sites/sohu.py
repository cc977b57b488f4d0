"""Sohu (搜狐): 搜狐号 articles (www.sohu.com/a/…) and the 2004–2005 business.sohu.com pages.

Templates by era, newest first; a marker picks one. Layout names carry the
earliest year the template is known from in the fixtures. The 2004–2005 table
pages are GB2312; their text sits in a td#fontzoom (twice nested on the
c_title template, where the outer one also holds a search form).
"""

from __future__ import annotations

import re

from parsel import Selector

from extractors.credits import person_names
from extractors.rules import Layout, SiteRule, first_text

# --- 搜狐号 (www.sohu.com/a/<id>_<account>) ------------------------------------

# "（本文来源：经济日报 作者：中国国际经济交流中心…部长、研究员徐占忱）" closing the text:
# the original outlet (the 搜狐号 account in meta mediaid only reposted it) and the writer.
_CLOSING_CREDIT = "p[starts-with(normalize-space(.), '（本文来源')]"
_CLOSING_CREDIT_TEXT = re.compile(r"本文来源\s*[:：]\s*(?P<source>[^\s）)]+)(?:\s*作者\s*[:：]\s*(?P<authors>[^）)]+))?")
# Job titles before the writer's name: "…研究部部长、研究员徐占忱" → "徐占忱".
_JOB_TITLE = re.compile(r"^.*(?:研究员|部长|主任|所长|院长|教授|主编|专家|学者|分析师|经济学家|首席\w{0,4}师)")


def _credited_writers(text: str) -> list[str]:
    """Person names of a credit's 作者 part, with the job titles in front of them left out."""
    segments = (_JOB_TITLE.sub("", s.strip()) for s in re.split(r"[，,、；;]", text))
    return person_names(" ".join(s for s in segments if s))


def closing_credit(page: Selector, url: str) -> dict:
    """Source and writers of the closing "（本文来源：X 作者：…）" line, which the drop list removes."""
    text = first_text(page, ("//article[@id='mp-editor']/" + _CLOSING_CREDIT,))
    match = _CLOSING_CREDIT_TEXT.search(text or "")
    if not match:
        return {}
    found: dict = {"source": match.group("source")}
    if match.group("authors") and (names := _credited_writers(match.group("authors"))):
        found["authors"] = names
    return found


V2023 = Layout(
    name="v2023",
    marker="article#mp-editor",
    title=("div.text-title h1",),
    published_at=("span#news-time", "meta[itemprop=datePublished]::attr(content)"),
    # "来源: 搜狐政务" in the header, when the account names one; its link is empty
    source=("div.article-info span[data-role=original-link] a",),
    editor=("p[data-role=editor-name]",),  # often an empty "责任编辑：" (→ None)
    body=("article#mp-editor",),
    drop=(
        "p[data-role=original-title]",  # hidden (display:none) copy of the headline
        "p[data-role=editor-name]",
        "#sohuplayer",  # the video and its label repeating the headline
        "p.video-title",
        "a#backsohucom",  # 返回搜狐，查看更多
        "./" + _CLOSING_CREDIT,
    ),
    extra=closing_credit,
)

# --- business.sohu.com, 2004–2005 table pages -----------------------------------

# The innermost td#fontzoom: the c_title template nests one inside another.
_TEXT_CELL = "//td[@id='fontzoom'][not(.//td[@id='fontzoom'])]"
_TABLE_PAGE_DROP = (
    ".//table",  # 理财/股票/评论 club links, ad buttons
    ".//a[contains(@href, '/sms/intro.php')]",  # 发送GP到6666 随时随地查行情
)

# c_title template: headline in td.c_title, "时间：2004年10月21日14:18 作者：郭励弘" in td.c_tj2.
_BYLINE_CELL = "//td[@class='c_tj2'][contains(., '时间')]"
CTITLE2004 = Layout(
    name="ctitle2004",
    marker="td.c_title",
    title=("td.c_title",),
    published_at=(_BYLINE_CELL,),
    authors=(_BYLINE_CELL,),
    body=(_TEXT_CELL,),
    drop=_TABLE_PAGE_DROP,
)

# cj20 template: headline in h1 or td.title <fltitle>, under it the red line
# "BUSINESS.SOHU.COM 2004年7月16日08:19 [ 黄宇 ] 来源：[ <a>国际金融报</a> ]":
# the bracketed name before 来源 is the byline; the 责任编辑 closes the text.
_DATELINE = "//td[@class='main'][starts-with(normalize-space(.), 'BUSINESS.SOHU.COM')]"
_DATELINE_BYLINE = f"(substring-before(substring-after(substring-before({_DATELINE}, '来源'), '['), ']'))"
V2004 = Layout(
    name="v2004",
    marker="td.cj20#fontzoom",
    title=("h1", "td.title fltitle"),
    published_at=(_DATELINE,),
    authors=(_DATELINE_BYLINE,),
    source=(_DATELINE + "//a",),
    source_url=(_DATELINE + "//a/@href",),
    body=(_TEXT_CELL,),
    drop=_TABLE_PAGE_DROP,
)

RULE = SiteRule(
    name="sohu",
    domains=("sohu.com",),
    layouts=(V2023, CTITLE2004, V2004),
    version=1,
    # "-搜狐财经" on old pages; 搜狐号 titles end in the article's keyword tags "_中国_法国_全球"
    title_suffix=r"(?:-搜狐\w*|(?:_[^_\s]{1,8}){1,5})$",
    article_urls=(
        r"^https?://(?:www|m)\.sohu\.com/a/\d+_\d+",
        r"^https?://[a-z]+\.sohu\.com/\d{8}/n\d+\.shtml",
    ),
)
