"""凤凰网 (ifeng.com): /c/<id> pages of news, ent, pl … and the regional /a/<date>/ pages.

The /c/ pages are a React app rebuilt every few years; its CSS-module class names
carry a build hash (topic-3bY8Hw-9, index_topic_5hyUE), so selectors match the
class prefix. Newest first:
- v2024: index_* classes (大风号 accounts and the 评论 column);
- v2022: timeBref-* / sourceTitleText-* header, pictures lazy (data-lazyload);
- v2019: time-* / source-* header;
- v2015: regional /a/YYYYMMDD/ pages (h1#artical_topic; loads 2015 header assets).

Pictures in /c/ text sit alone in a <p>; their caption, when there is one, is the
plain <p> right after (no caption markup), so which <p> is a caption is decided
by its text (see _CAPTION_PARAGRAPHS).
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from urllib.parse import urljoin

from parsel import Selector

from extractors.article import Image
from extractors.captions import find_caption
from extractors.clean import clean_lines
from extractors.credits import person_names
from extractors.rules import (
    Layout,
    SiteRule,
    drop_node,
    element_lines,
    first_text,
    select,
)
from extractors.sources import HtmlList

# --- pictures and their captions in /c/ text ---------------------------------

_PICTURE_P = "self::p[.//img][not(normalize-space(.))]"
_PLAIN_P = ".//p[not(.//img)][not(.//strong or .//b)]"  # bold lines are sub-headings
# a photo, not an animated GIF: ifeng stories run GIF clips whose next line is narration
_PHOTO_P = "self::p[.//img[not(contains(concat(@src, ' ', @data-lazyload), '.gif'))]][not(normalize-space(.))]"
# credit words, or a label without a full stop or colon ("灯光版《清明上河图》")
_CAPTION_WORDS = r"供图|图片来源|资料图|视觉中国|东方IC|摄$| 图$|^[^。！？：:]{1,20}$"
# One XPath: evaluated at once, so dropping a caption never makes the next line one.
_CAPTION_PARAGRAPHS = (
    f"{_PLAIN_P}[preceding-sibling::*[1][{_PICTURE_P}]][re:test(normalize-space(.), '{_CAPTION_WORDS}')]"
    # under a photo, any short line is its caption ("小花家。", "小刚的作业本。")
    f" | {_PLAIN_P}[normalize-space(.)][string-length(normalize-space(.)) <= 24][preceding-sibling::*[1][{_PHOTO_P}]]"
)

# --- credits closing /c/ text ------------------------------------------------

_CJK_NAME = r"[\u4e00-\u9fff·]{1,4}"
# a whole line of roles and names: "作者 王之言 高孜然", "编辑 周褶褶 ｜ 排版 魏蔚", "监 制：高明勇"
_DESK_LINE = (
    rf"^(?:(?:作者|编辑|排版|校对|责编|总监制|监\s?制|审\s?读)\s*[:：]?\s*{_CJK_NAME}(?:\s{_CJK_NAME})*\s*[｜|]?\s*)+$"
)
_AUTHOR_LINE = rf"^作者\s*[:：]?\s*{_CJK_NAME}(?:\s{_CJK_NAME})*$"
_AUTHOR_P = f"p[re:test(normalize-space(.), '{_AUTHOR_LINE}')]"
_CLOSING_AUTHOR_P = f"{_AUTHOR_P}[not(following-sibling::p[normalize-space(.)])]"
# the column's opening byline "文丨政能亮特约评论员 韩涵"
_COLUMN_BYLINE_P = r"p[1][re:test(normalize-space(.), '^文\s*[丨｜|/]')]"
_TEXT_DROP = (
    # after the closing byline: empty <p>s, and a table a scraper's sample injected
    f".//{_CLOSING_AUTHOR_P}/following-sibling::*",
    _CAPTION_PARAGRAPHS,
    f"./p[re:test(normalize-space(.), '{_DESK_LINE}')]",
    f"./{_COLUMN_BYLINE_P}",
    # "（实习生王金茹对此文亦有贡献）", "感谢郭张隽、…为本文提供的帮助": thanks, not bylines
    r"./p[re:test(normalize-space(.), '^[（(][^（）()]{2,30}对(?:此|本)文亦?有贡献[）)]$')]",
    r"./p[re:test(normalize-space(.), '^感谢.{2,60}为本文提供')]",
)


def _authors_of(text: str) -> tuple[str, ...]:
    """The "作者 X Y" line, else the column byline, in the text at XPath `text`."""
    return (
        f"(translate(substring-after({text}//{_AUTHOR_P}, '作者'), '：:', '  '))",
        f"(substring-after(translate({text}/{_COLUMN_BYLINE_P}, '｜|/', '丨丨丨'), '丨'))",
    )


# "（作者韩涵系政邦智库研究员）" closing the last paragraph of a column
_AUTHOR_NOTE = re.compile(r"[（(]作者(?P<name>[\u4e00-\u9fff·]{2,4}?)系[^（）()]{2,30}[）)]$")


def pictures(container: Selector, url: str) -> list[Image]:
    """The pictures of /c/ text, lazy ones by data-lazyload, captions as _CAPTION_PARAGRAPHS say.

    Read before the drops (they remove the captions), by this rule's extra:
    the shared reader takes src and would keep the placeholders.
    """
    captions = {node.root for node in container.xpath(_CAPTION_PARAGRAPHS)}
    images = []
    for img in container.css("img"):
        src = img.attrib.get("data-lazyload") or img.attrib.get("src")
        if not src or src.startswith("data:"):
            continue
        following = img.xpath("ancestor::p[1]/following-sibling::*[1]")
        caption = following.xpath("normalize-space(.)").get() if following and following[0].root in captions else None
        if not caption:  # a caption the shared rule takes out of the body (centred, styled …)
            found = find_caption(img.root, stop=container.root)
            caption = found.text if found else None
        images.append(Image(src=urljoin(url, src), caption=caption or None))
    return images


def _text_lines(container: Selector) -> list[str]:
    """The lines of the text with the drop list applied, on a copy (extra runs before the drops)."""
    text = Selector(root=copy.deepcopy(container.root))
    for xpath in _TEXT_DROP:
        for node in select(text, xpath):
            drop_node(node)
    return element_lines(text.root)


def column_author_note(container: Selector, title: str | None) -> tuple[str, list[str]] | None:
    """The body without a closing author note, and the person it names; None without a note.

    The note ends the last paragraph, where no selector can cut it, so the body is
    rebuilt from a copy of the text, read as the shared path reads it.
    """
    lines = clean_lines(_text_lines(container), title=title).body.split("\n")
    match = _AUTHOR_NOTE.search(lines[-1])
    if not match:
        return None
    lines[-1] = lines[-1][: match.start()].rstrip()
    return "\n".join(line for line in lines if line), person_names(match.group("name"))


# --- layouts, newest first ----------------------------------------------------

_V2024_TEXT = "//div[starts-with(@class, 'index_main_content_')]//div[starts-with(@class, 'index_text_')]"
_V2024_TITLE = "h1[class^='index_topic_']"


def v2024_extras(page: Selector, url: str) -> dict:
    """Lazy pictures, and the 评论 column's closing author note."""
    container = page.xpath(_V2024_TEXT)[0]
    found: dict = {"images": pictures(container, url)}
    if note := column_author_note(container, first_text(page, (_V2024_TITLE,))):
        found["body"], named = note
        if not first_text(page, _authors_of(_V2024_TEXT)):  # the byline names the author first
            found["authors"] = named
    return found


# 大风号 article: account name, "2024年01月25日 18:03:35 来自内蒙古自治区" (an IP location);
# 评论 column (pl.ifeng.com): date span, account link, "来自北京市" in a span of its own.
V2024 = Layout(
    name="v2024",
    marker=_V2024_TITLE,
    title=(_V2024_TITLE,),
    published_at=("div[class^='index_timeBref_']", "span[class^='index_date_']"),
    source=("div[class^='index_sourceTitleText_'] a", "span[class^='index_source_'] a"),
    source_url=("div[class^='index_sourceTitleText_'] a::attr(href)",),
    authors=_authors_of(_V2024_TEXT),
    editor=("p[class^='index_author_']",),  # "[责任编辑：杜智 PX209]", "责编：黄忆南 PN269"
    body=(_V2024_TEXT,),
    drop=_TEXT_DROP,
    extra=v2024_extras,
)

_C_TEXT = "//div[starts-with(@class, 'main_content-')]//div[starts-with(@class, 'text-')]"


def c_pictures(page: Selector, url: str) -> dict:
    """The pictures of a /c/ page (v2022 ones are lazy)."""
    return {"images": pictures(page.xpath(_C_TEXT)[0], url)}


# "2019年02月20日 02:26:00 来自北京": the location after the time is left out
V2022 = Layout(
    name="v2022",
    marker="div[class^='timeBref-']",
    title=("h1[class^='topic-']",),
    published_at=("div[class^='timeBref-']",),
    source=("div[class^='sourceTitleText-'] a",),
    source_url=("div[class^='sourceTitleText-'] a::attr(href)",),
    authors=_authors_of(_C_TEXT),
    editor=("p[class^='author-']",),
    body=(_C_TEXT,),
    drop=_TEXT_DROP,
    extra=c_pictures,
)

# "[责任编辑：韩保林 PK155]" in p.author-* under the text: the editor, whatever the class says
V2019 = replace(
    V2022,
    name="v2019",
    marker="p[class^='time-']",
    published_at=("p[class^='time-'] > span:first-child",),
    source=("span[class^='source-']",),
    source_url=("span[class^='source-'] a::attr(href)",),
)

# Regional pages: paragraphs run together in a <p>, split by <br>; pictures in bare <div>s.
V2015 = Layout(
    name="v2015",
    marker="h1#artical_topic",
    title=("h1#artical_topic",),
    published_at=("#artical_sth span[itemprop=datePublished]",),
    source=("#artical_sth span.ss03",),
    source_url=("#artical_sth span.ss03 a::attr(href)",),
    editor=("#artical_sth2 p.iphone_none",),  # "[责任编辑：刘斌]"
    body=("div#main_content",),
    drop=("span.ifengLogo",),  # the 16x16 logo closing the text
)

RULE = SiteRule(
    name="ifeng",
    domains=("ifeng.com",),
    layouts=(V2024, V2022, V2019, V2015),
    version=1,
    title_suffix=r"(?:_[^_]*)?_凤凰网$|凤凰网评论_凤凰网$",
    article_urls=(
        r"^https?://[\w-]+\.ifeng\.com/c/\w{11}(?:[?#]|$)",
        r"^https?://[\w-]+\.ifeng\.com/a/\d{8}/\d+_\d+\.shtml",
    ),
    skip_urls={"video": r"^https?://v\.ifeng\.com/"},
    # SITES.md #7: the finance list page embeds its list as "newsstream":[{title, url, newsTime}]
    sources=(HtmlList("https://finance.ifeng.com/shanklist/1-62-", embedded_json="newsstream", time_field="newsTime"),),
)
