"""澎湃新闻 (thepaper.cn): newsDetail pages, newsroom stories and 澎湃号 (政务/媒体) posts.

The text in div.news_txt is bare text runs split by <br> and empty div.contheight,
not paragraphs, and a picture's caption is the run right after its <div> (or a
grey <span> there). No selector reaches a text run, so the body, the pictures and
the lines that move to fields are read by one helper, paper_text, in document order.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector

from extractors.article import Image
from extractors.clean import clean_lines, normalize_space
from extractors.rules import Layout, SiteRule, drop_node, element_lines, first_text
from extractors.sources import JsonList

_TITLE = "h1.news_title"
_TEXT = "div.news_txt"
_TEXT_DROP = (".hide_word",)  # "(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)", hidden
# "石佳/中国青年报": author/outlet; "新华社": the outlet alone; empty on 澎湃号 posts
_BYLINE = "//div[@class='news_about']/p[1]"
_DECORATION = ".//img[number(@height) <= 20]"  # 114x12 divider GIFs of WeChat posts

# A caption: "▲…" under the picture, or a credit line ("资料图", "共享充电宝。视觉中国 资料").
_CAPTION = re.compile(r"^[▲△]|^资料图|视觉中国|供图|图片来源|摄$|资料$")
_CAPTION_MAX = 60
# "本文原标题：《…》" opening a 澎湃号 post; "（原题为《…》）" closing a reprint
_ORIGINAL_TITLE = re.compile(r"^本文原标题[:：]\s*《(?P<title>.+)》$|^[（(]原题为《(?P<closing>.+)》[）)]$")
# The WeChat desk credits "编辑|禤志杰", "责编|陈梦莹", "校对|…" start the post's tail
# (来源, QR code, "回复【…】" menu lines): all of it is left out.
_TAIL_START = re.compile(r"^(?:编辑|责编|校对)\s*[|｜]")
_TAIL_EDITOR = re.compile(r"^责编\s*[|｜]\s*(?P<name>\S+)$")
_DESTROYED = re.compile(r"^[\ufffd\s]+$")  # emoji lost in the source bytes

_PICTURE = "@@picture:"  # a line standing for the n-th picture (its own block, so its own line)


def _text_lines(container: Selector) -> tuple[list[str], list[str]]:
    """The lines of the text (drops applied, on a copy) with each picture as a marker line."""
    root = copy.deepcopy(container.root)
    text = Selector(root=root)
    for css in _TEXT_DROP:
        for node in text.css(css):
            drop_node(node)
    for node in text.xpath(_DECORATION):
        drop_node(node)
    sources = []
    for img in list(root.iter("img")):
        marker = etree.Element("p")
        marker.text, marker.tail = f"{_PICTURE}{len(sources)}", img.tail
        sources.append(img.get("src") or "")
        img.getparent().replace(img, marker)
    return [normalize_space(line) for line in element_lines(root)], sources


def paper_text(page: Selector, url: str) -> dict:
    """Body, pictures with captions, 原标题 and the WeChat 责编 of div.news_txt."""
    found: dict = {}
    lines, sources = _text_lines(page.css(_TEXT)[0])
    images: list[Image] = []
    kept: list[str] = []
    last_picture: Image | None = None
    for position, line in enumerate(lines):
        if line.startswith(_PICTURE):
            src = sources[int(line[len(_PICTURE) :])]
            last_picture = Image(src=urljoin(url, src)) if src else None
            images += [last_picture] if last_picture else []
            continue
        caption_of, last_picture = last_picture, None
        if not line or _DESTROYED.match(line):
            continue
        if caption_of and len(line) <= _CAPTION_MAX and _CAPTION.search(line):
            caption_of.caption = line
        elif match := _ORIGINAL_TITLE.match(line):
            found["original_title"] = match.group("title") or match.group("closing")
        elif kept and _TAIL_START.match(line):
            if editor := next((m.group("name") for m in map(_TAIL_EDITOR.match, lines[position:]) if m), None):
                found["editor"] = editor
            break
        else:
            kept.append(line)
    found["body"] = clean_lines(kept, title=first_text(page, (_TITLE,))).body
    found["images"] = images
    return found


# newsDetail_forward_<id>: the same page for newsroom stories and 澎湃号 posts; a 澎湃号
# post names its account in div.news_paike_author (its "来源：澎湃新闻·澎湃号·政务" is the channel).
V2019 = Layout(
    name="v2019",
    marker=f"{_TITLE} ~ div.news_about",
    title=(_TITLE,),
    published_at=("//div[@class='news_about']/p[2]",),
    source=(
        "div.news_paike_author .name",
        f"(substring-after({_BYLINE}, '/'))",
        f"{_BYLINE}[not(contains(., '/'))]",
    ),
    source_url=("div.news_paike_author a::attr(href)",),
    authors=(f"(substring-before({_BYLINE}, '/'))",),
    editor=("div.news_infor_extra .infor_item",),  # 责任编辑：张珺
    body=(_TEXT,),
    drop=_TEXT_DROP,
    extra=paper_text,
)

RULE = SiteRule(
    name="thepaper",
    domains=("thepaper.cn",),
    layouts=(V2019,),
    version=1,
    title_suffix=r"(?:_[^_]*)?_澎湃新闻-The Paper$",
    article_urls=(r"^https?://(?:www\.|m\.)?thepaper\.cn/newsDetail_forward_\d+",),
    # SITES.md #5: channel 25951 (财经) by POST; paging not verified
    sources=(
        JsonList(
            url="https://api.thepaper.cn/contentapi/nodeCont/getByChannelId",
            name="25951",
            method="POST",
            body='{"channelId":"25951"}',
            headers=(("Content-Type", "application/json"),),
            url_template="https://www.thepaper.cn/newsDetail_forward_{contId}",
            title_field="name",
            time_field="pubTimeLong",
            time_unit="ms",
        ),
    ),
)
