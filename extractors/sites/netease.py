"""NetEase (网易, 163.com): money/news/tech/biz channel pages and 网易号 (dy) articles.

Templates by era, newest first; a CSS/XPath marker picks one (old pages stay
online in old templates). Layout names carry the earliest year the template is
known from (the fixtures, or the css13 asset folder of the ep- template).
"""

from __future__ import annotations

import re
from dataclasses import replace

from parsel import Selector

from extractors.clean import clean_lines, normalize_space
from extractors.credits import person_names
from extractors.rules import Layout, SiteRule, element_lines, first_text
from extractors.sources import JsonList

# --- shared by the channel templates (ep- and post_) -------------------------

_SOURCE_LINK = "a#ne_article_source"  # the "(广州)" after the link is the city, left out
# "责任编辑：杨倩_NF4425": the CMS appends the editor's staff code after "_"; a bare
# code ("NF050") has no "_" and is kept as shown by the second selector.
_EP_EDITOR = (
    "(substring-before(//span[@class='ep-editor'], '_'))",
    "//span[@class='ep-editor']",
)
# "本文来源：21世纪经济报道 作者：何苗 张梦洁" closing #endText (only when it names authors)
_EP_SOURCE_AUTHORS = "//div[contains(@class,'ep-source')]/span[contains(., '作者')]"
# A newspaper's own closing credits, inside the text: "新京报记者 陆一夫" (→ authors)
# and its desk line "编辑 刘晓阳 校对 李铭" / "编辑/倪家宁" (not the page's 责任编辑).
_REPORTER_LINE = (
    "p[contains(., '记者 ')][string-length(normalize-space(.)) <= 16]"
    "[not(contains(., '，') or contains(., '。') or contains(., '（'))]"
)
_DESK_CREDIT_LINE = "p[starts-with(normalize-space(.), '编辑 ') or starts-with(normalize-space(.), '编辑/')]"

# 163 quote links: quotes.money.163.com/<7 digits>.html (leading 0 = Shanghai,
# 1 = Shenzhen), /hkstock/<code>.html, /usstock/hq/<ticker>.html.
_QUOTE_LINKS = ("a[href*='quotes.money.163.com']::attr(href)",)
_QUOTE_URL = re.compile(
    r"quotes\.money\.163\.com/"
    r"(?:(?P<cn>[01])(?P<cn_code>\d{6})|hkstock/(?P<hk>\d{4,5})|usstock/hq/(?P<us>[A-Za-z.]+))\.html"
)

# Inside #endText, never article.
_ENDTEXT_DROP = (
    "div.ep-source",  # 本文来源 / 作者 / 责任编辑, read above
    ".gg200x300",  # ad iframes
    ".right_ad_item",
    ".ad_hover_href",
    "table",  # the 2015 app promo ("网易财经 会赚钱的客户端", "打新神器")
    "div.biaoqian + div",  # 重点推荐: its link lists (证券要闻 / 行业动态 / 公司新闻) …
    "div.biaoqian",  # … and its heading
    ".related_article",  # 延伸阅读
    "p.otitle",  # （原标题：…）, read by channel_credits
    ".//a[normalize-space(.)='详情>>']",  # read-more links closing a paragraph
    "./" + _REPORTER_LINE,
    "./" + _DESK_CREDIT_LINE,
)
# A picture's caption is the text in its own centred paragraph ("△坦帕市市长…").
_CAPTION_IN_PARAGRAPH = "parent::p[contains(@class,'f_center')][normalize-space(.)]"


def quote_symbol(href: str) -> str | None:
    """A quote link → 'sh000997', 'sz399006', 'hk00700', 'usBIDU'; search and data links → None."""
    match = _QUOTE_URL.search(href)
    if not match:
        return None
    if match.group("cn"):
        return ("sh" if match.group("cn") == "0" else "sz") + match.group("cn_code")
    if match.group("hk"):
        return "hk" + match.group("hk")
    return "us" + match.group("us").upper()


def channel_credits(page: Selector, url: str) -> dict:
    """Authors and 原标题 that sit in nodes the drop list removes.

    Authors come from the closing "本文来源：X 作者：A B" line, else the newspaper's
    own "新京报记者 陆一夫" line. (Layout.authors is read after the drops, so these
    cannot be plain selectors.) p.otitle reads "（原标题：…）" in brackets, which the
    shared 原标题 filter does not take.
    """
    found: dict = {}
    credit = first_text(page, (_EP_SOURCE_AUTHORS, "//div[@id='endText']/" + _REPORTER_LINE))
    if credit and (names := person_names(re.sub(r"^.*?作者\s*[:：]", "", credit))):
        found["authors"] = names
    otitle = first_text(page, ("p.otitle",))
    if match := re.fullmatch(r"[（(]?\s*原标题\s*[:：]\s*(.+?)\s*[）)]?", otitle or ""):
        found["original_title"] = match.group(1)
    return found


# --- layouts, newest first ----------------------------------------------------

# 网易号 (www.163.com/dy/article/…): the account is the source; the IP location after it is not.
DY2024 = Layout(
    name="dy2024",
    marker="h1.post_title",
    title=("h1.post_title",),
    published_at=(".post_info", "#contain::attr(data-ptime)"),
    source=(".post_info a[href*='/dy/media/']",),
    source_url=(".post_info a[href*='/dy/media/']::attr(href)",),
    editor=(
        "(substring-before(//div[@class='creative_statement'], '_'))",
        "//div[@class='creative_statement']",
    ),
    body=("div.post_body",),
    drop=("./" + _DESK_CREDIT_LINE,),  # "编辑/倪家宁" (the closing "文/栗思" is a shared byline)
    # uploaded pictures are followed by a plain short caption paragraph (sub-headings are bold)
    caption=(
        "parent::p[contains(@class,'f_center')]/following-sibling::p[1]"
        "[not(.//img)][not(.//b or .//strong)][normalize-space(.)]"
        "[string-length(normalize-space(.)) <= 40][not(contains(., '。'))]"
    ),
)

# Channel pages since ~2016 (money/news/tech …/19/0907/13/<docid>.html): div.post_content_main.
V2019 = Layout(
    name="v2019",
    marker="div.post_content_main",
    title=(".post_content_main h1",),
    published_at=(".post_time_source", "html::attr(data-publishtime)"),
    source=(_SOURCE_LINK,),
    source_url=(_SOURCE_LINK + "::attr(href)",),
    editor=_EP_EDITOR,
    body=("#endText",),
    drop=_ENDTEXT_DROP,
    symbols=_QUOTE_LINKS,
    symbol_from=quote_symbol,
    extra=channel_credits,
    caption=_CAPTION_IN_PARAGRAPH,
)

# Channel pages of the css13 era (money.163.com/15/0521/05/<docid>.html): h1#h1title.
# p.ep-summary above #endText is a CMS digest, outside the container anyway.
V2013 = replace(
    V2019,
    name="v2013",
    marker="h1#h1title",
    title=("h1#h1title",),
    published_at=(".ep-time-soure",),
)

# 亦观察 column (money.163.com/…/<docid>002551G6.html and kin): the page's only h1 is the
# logo. The text is div.entext; the div#endText after it is empty or holds only the
# closing licence note. Opening "[摘要：…]" digest, closing "本文为X授权网易财经《亦观察》…"
# note and the author bio after it are not article.
_COLUMN_LICENCE = "p[contains(., '授权网易财经')]"
_COLUMN_EDITOR = "//p[@class='tips2']/span[starts-with(normalize-space(.), '编辑')]"  # 编辑：几乎不流浪
_COLUMN_LICENSOR = re.compile(r"本文为(?P<licensor>.+?)(?:独家)?授权网易财经")


def column_credits(page: Selector, url: str) -> dict:
    """Editor from the column box; source = the licensor of the closing note, unless it is the author."""
    found: dict = {}
    if match := re.search(r"编辑\s*[:：]\s*(\S+)", first_text(page, (_COLUMN_EDITOR,)) or ""):
        found["editor"] = match.group(1)
    author = first_text(page, ("span.con1_author",))
    note = first_text(page, ("//div[@class='entext' or @id='endText']/" + _COLUMN_LICENCE,))
    if match := _COLUMN_LICENSOR.search(note or ""):
        licensor = match.group("licensor").strip()
        found["source"] = None if licensor == author else licensor
    return found


COLUMN2015 = Layout(
    name="column2015",
    marker="h2.con1_ltle",
    title=("h2.con1_ltle",),
    published_at=("span.con1_date",),
    authors=("span.con1_author",),
    body=("div.entext",),
    drop=(
        "./p[starts-with(normalize-space(.), '[摘要')]",
        "./" + _COLUMN_LICENCE + "/following-sibling::p",  # the author bio
        "./" + _COLUMN_LICENCE,
    ),
    symbols=_QUOTE_LINKS,
    symbol_from=quote_symbol,
    extra=column_credits,
    caption=_CAPTION_IN_PARAGRAPH,
)

# biz.163.com 2005 div template: h1, "http://biz.163.com 2005-04-25 08:24:06 来源: 第一财经日报"
# in div#subjection, the text in div#text (one <td> split by <BR><BR>). The newspaper's
# deck stands above the byline "本报记者罗科苏盈发自北京"; both are left out.
_SUBJECTION_LINE = "//div[@id='subjection']/text()[contains(., '来源')]"
_DATELINE_BYLINE = re.compile(r"^(?:本报|本刊)?记者(?P<names>[\u3400-\u9fff、 ]{2,12}?)(?:发自|报道)")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐")


def _reporter_names(run: str) -> list[str]:
    """'罗科苏盈' → ['罗科', '苏盈']: four characters with no compound surname are two people."""
    names = person_names(run)
    if len(names) == 1 and len(run) == 4 and not run.startswith(_COMPOUND_SURNAMES):
        return [run[:2], run[2:]]
    return names


def biz_dateline_byline(page: Selector, url: str) -> dict:
    """The reporters of the "本报记者…发自…" byline, and the body from the line after it.

    The deck above the byline is a bare text run in the same <td>, which no drop
    selector can reach, so this helper rebuilds the body from the lines after it.
    """
    container = page.css("div#text")
    if not container:
        return {}
    lines = [normalize_space(line) for line in element_lines(container[0].root)]
    for position, line in enumerate(lines[:6]):
        if match := _DATELINE_BYLINE.match(line):
            return {
                "authors": _reporter_names(match.group("names").strip()),
                "body": clean_lines(lines[position + 1 :]).body,
            }
    return {}


V2005 = Layout(
    name="v2005",
    marker="div#subjection",
    title=("h1",),
    published_at=(_SUBJECTION_LINE,),
    source=("(substring-after(" + _SUBJECTION_LINE + ", '来源:'))",),
    body=("div#text",),
    drop=("img",),  # a hidden CMS field (alt 'WebHunter'), not a picture
    extra=biz_dateline_byline,
)

# biz.163.com 2004–2005 table template: h1, time and source in the first td.graysl,
# the text in the first span.grayb (<P> paragraphs, an ad table among them).
_BIZ_CREDIT = re.compile(r"[（(](?P<name>[\u3400-\u9fff]{2,3})\s+\S{2,4}报道[）)]\s*$")


def biz_place_credit(page: Selector, url: str) -> dict:
    """The reporter of a closing "（姚峰 上海报道）", not the place; the shared filter strips the credit."""
    text = first_text(page, ("(//span[@class='grayb'])[1]/p[last()]",))
    match = _BIZ_CREDIT.search(text or "")
    return {"authors": [match.group("name")]} if match else {}


V2004 = Layout(
    name="v2004",
    marker="td.graysl",
    title=("h1",),
    published_at=("td.graysl",),
    source=("td.graysl font",),
    body=("(//span[@class='grayb'])[1]",),
    drop=(".//table",),  # the tvscreen ad between paragraphs
    extra=biz_place_credit,
)

RULE = SiteRule(
    name="netease",
    domains=("163.com",),
    layouts=(DY2024, V2019, COLUMN2015, V2013, V2005, V2004),
    version=1,
    title_suffix=r"(\|[^|_]*)*_(网易\w*|\w+频道)$",
    article_urls=(
        # channel pages: money.163.com/15/0703/04/ATIQQ87C00253B0H.html
        r"^https?://[a-z]+\.163\.com/\d{2}/\d{4}/\d{2}/[0-9A-Z]{16}\.html",
        # 网易号 and the unified host: www.163.com/dy/article/J22CN60P0514R9KQ.html
        r"^https?://www\.163\.com/[a-z]+/article/[0-9A-Z]{16}\.html",
        # biz.163.com 2004–2005: /41210/1/17867KR700020QBK.html
        r"^https?://biz\.163\.com/\d{5}/\d/[0-9A-Z]{16}\.html",
    ),
    skip_urls={
        "video": r"^https?://(?:v|video)\.163\.com/|/v/video/",
        "slide": r"/photoview/|^https?://\w+\.163\.com/photo",
        "live": r"^https?://live\.163\.com/",
    },
    # SITES.md #3: static JSONP, news_flow_index.js then news_flow_index_02.js, _03.js…
    sources=(
        JsonList(
            url="https://money.163.com/special/00259BVP/news_flow_index_{page:02d}.js?callback=data_callback",
            first_url="https://money.163.com/special/00259BVP/news_flow_index.js?callback=data_callback",
            name="news_flow_index",
            jsonp=True,
            items="",
            url_field="docurl",
            time_field="time",  # "05/10/2024 14:32:05", China time
            time_unit="text",
        ),
    ),
)
