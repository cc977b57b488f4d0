"""The article's header, read from the page: headline, publication time, source, editor, canonical URL.

Cheap page reads instead of trafilatura's metadata pass (which runs htmldate
and would double the cost). The *header zone* is the short text right after
the headline up to the first body-like paragraph, plus a few text nodes right
before it (date lines above the headline); dates, 来源 and 编辑 lines are read
there first, so a date the article mentions never wins over the dateline.

Publication time, in this order (`published_stamp`):
1. a date with a time of day in the header zone (after the headline, then before it);
2. the page's meta / JSON-LD time with a time of day, unless the header zone shows
   another day;
3. a date without a time in the header zone, then in meta / JSON-LD (precision "day");
4. on Chinese pages, the first date with a time anywhere in the page, unless the URL names another day;
5. the day the URL names (`/2005/07/31/`, `/20190909/`, `/201909/09/`);
6. htmldate on meta and URL only (extensive_search off), as a last resort.
A time-less date is 00:00 in the site's zone with precision "day".
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from parsel import Selector
from w3lib.url import canonicalize_url

from extractors.clean import normalize_space
from extractors.dates import CHINA_TZ, Stamp, find_stamps, parse_stamp, url_date

_CJK = re.compile(r"[\u3400-\u9fff]")
# Elements that may hold the headline, most specific first.
_HEADLINE_XPATH = (
    "//h1 | //h2 | //*[self::div or self::span or self::p or self::td or self::th]"
    "[contains(@class,'title') or contains(@id,'title') or contains(@class,'Title')]"
)
# meta names/properties/itemprops (lower case) that give the publication time, most trusted first
_PUBLISHED_META = (
    "article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "weibo: article:create_at",
    "og:release_date",
    "dc.date.issued",
    "dc.date",
    "date",
)
_LOWER = "translate(concat(@property, @name, @itemprop), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_DATE_META = f"//meta[@content][contains({_LOWER}, 'date') or contains({_LOWER}, 'pub') or contains({_LOWER}, 'creat')]"
_JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_TEXT = "text()[not(ancestor::script|ancestor::style|ancestor::noscript)][normalize-space()]"
_VISIBLE_TEXT = "//body//" + _TEXT
ZONE_AFTER_NODES = 40  # text nodes read after the headline at most
ZONE_BEFORE_NODES = 8  # and before it (a date line above the headline)
ZONE_CHARS = 400  # characters of header zone on either side
BODY_LINE_CHARS = 50  # a text node this long with sentence punctuation starts the body
_SENTENCE = re.compile(r"[，。；！？,.;!?]")


def canonical_url(page: Selector, url: str) -> str:
    """link rel=canonical, else og:url, else the fetched URL; normalised (w3lib)."""
    for css in ("link[rel=canonical]::attr(href)", "meta[property='og:url']::attr(content)"):
        value = page.css(css).get()
        if value and value.strip().startswith(("http://", "https://")):
            return canonicalize_url(value.strip())
    return canonicalize_url(url)


# ---------------------------------------------------------------- headline

# "标题_新浪网", "标题|公视新闻网", "标题 - 中国日报网", "标题-法制网", "标题—中新网", "标题——人民网"
_SUFFIX_SEPARATOR = re.compile(r"\s*(?:[_|｜]+|——|—|–|-{1,2})\s*")
# a trailing segment after a bare dash is a site name only when it reads as one
_SITE_WORD = re.compile(
    r"(?:网|網|报|報|新闻|新聞|频道|頻道|在线|在線|社|台|站|中心|门户|財經|财经|传媒|媒体|周刊|杂志|"
    r"\.com|\.cn|\.net|News|Online|Times|Post|Daily|Journal)$",
    re.IGNORECASE,
)
SITE_SEGMENT_CHARS = 12  # a trailing segment this short that the headline does not repeat is a site name


def _key(text: str) -> str:
    """Text without punctuation or spaces: "增强——前4个月" and "增强-前4个月" compare equal."""
    return re.sub(r"[\W_]+", "", text)


def _host_brand(page: Selector) -> str:
    """"sina" for finance.sina.com.cn: the registrable name of the page's canonical host."""
    host = urlsplit(canonical_url(page, "")).hostname or ""
    labels = [label for label in host.split(".") if label not in ("www", "com", "cn", "net", "org", "gov", "edu", "tw", "hk")]
    return labels[-1] if labels else ""


def strip_site_suffix(title: str, site_names: tuple[str, ...] = (), headline: str = "") -> str:
    """The title without trailing site names ("标题_财经频道_新华网" → "标题").

    A trailing segment is cut when it names the site (og:site_name, the host's
    brand), or it is short (≤ SITE_SEGMENT_CHARS) and not part of `headline`, and,
    after a dash (which headlines use too: "A股-港股联动"), reads as a site name.
    """
    names = tuple(_key(name).lower() for name in site_names if name and len(_key(name)) >= 2)
    headline_key = _key(headline)
    while True:
        separators = list(_SUFFIX_SEPARATOR.finditer(title))
        if not separators:
            return title
        last = separators[-1]
        head, tail = title[: last.start()].strip(), title[last.end() :].strip()
        tail_key = _key(tail).lower()
        if len(_key(head)) < 4 or not tail_key:
            return title
        named = any(tail_key in name or name in tail_key for name in names)
        short = len(tail) <= SITE_SEGMENT_CHARS and not (headline_key and _key(tail) in headline_key)
        dash = last.group(0).strip() in ("-", "--", "–", "—", "——")
        if not (named or (short and (not dash or _SITE_WORD.search(tail)))):
            return title
        title = head


def page_title(page: Selector, title_suffix: str | None = None) -> tuple[str | None, object | None]:
    """The headline and its element (None when it only comes from <title>/og:title).

    Among headline elements the <title> repeats, the first one followed by a
    date is taken (sticky headers and hidden share blocks repeat the headline too).
    """
    title_tag = normalize_space(page.css("title::text").get() or "")
    og_title = normalize_space(page.css("meta[property='og:title']::attr(content)").get() or "")
    keys = (_key(title_tag), _key(og_title))
    for xpath in ("//h1", _HEADLINE_XPATH):  # the cheap, usual case first
        matches = []
        for node in page.xpath(xpath)[:40]:
            text = normalize_space(" ".join(node.xpath(".//text()[not(ancestor::script)]").getall()))
            if 4 <= len(text) <= 200 and any(_key(text) in key for key in keys):
                matches.append((text, node.root))
                if len(matches) == 3:
                    break
        if len(matches) > 1:
            return next((m for m in matches if find_stamps(" ".join(header_zone(m[1])[0]))), matches[0])
        if matches:
            return matches[0]
    site_names = (page.css("meta[property='og:site_name']::attr(content)").get() or "", _host_brand(page))
    first_h1 = normalize_space(" ".join(page.xpath("//h1[1]//text()").getall()))
    for candidate in (og_title, title_tag):
        if candidate:
            if title_suffix:
                candidate = re.sub(title_suffix, "", candidate).strip()
            title = strip_site_suffix(candidate, site_names, first_h1)
            return title, _element_with_text(page, title)
    return first_h1 or None, None


def _element_with_text(page: Selector, title: str):
    """The element whose own text is the headline (old pages set it in a plain <td> or <font>)."""
    key = _key(title)
    if len(key) < 4:
        return None
    for text in page.root.xpath(f"({_VISIBLE_TEXT})[position() <= 1500]"):
        if not text.is_tail and _key(text) == key:
            return text.getparent()
    return None


# ---------------------------------------------------------------- header zone


def header_zone(headline_element) -> tuple[list[str], list[str]]:
    """Text right after the headline (up to the body) and right before it (nearest first)."""
    after, before = _zone_nodes(headline_element)
    return [text for text, _ in after], [text for text, _ in before]


_last_zone: list = [None, ([], [])]  # the last headline element read and its zone: three readers share one read


def _zone_nodes(headline_element) -> tuple[list[tuple[str, object]], list[tuple[str, object]]]:
    """The header zone's text nodes as (normalised text, element holding it), after and before."""
    if headline_element is None:
        return [], []
    if _last_zone[0] is not headline_element:
        after = headline_element.xpath(f"following::{_TEXT}[position() <= {ZONE_AFTER_NODES}]")
        before = headline_element.xpath(f"preceding::{_TEXT}[position() <= {ZONE_BEFORE_NODES}]")
        _last_zone[:] = [headline_element, (_zone_texts(after), _zone_texts(reversed(before)))]
    return _last_zone[1]


def _zone_texts(texts) -> list[tuple[str, object]]:
    zone, size = [], 0
    for raw in texts:
        text = normalize_space(raw)
        if len(text) >= BODY_LINE_CHARS and _SENTENCE.search(text):
            break  # a paragraph: the body (or the text around the header) starts here
        zone.append((text, raw.getparent()))
        size += len(text)
        if size >= ZONE_CHARS:
            break
    return zone


# ---------------------------------------------------------------- publication time


def published_stamp(page: Selector, headline_element=None, url: str | None = None) -> Stamp | None:
    """The publication time and its precision, in the order of this module's docstring."""
    after, before = header_zone(headline_element)
    zone = [find_stamps(" ".join(after)), find_stamps(" ".join(before))]
    timed = next((s for stamps in zone for s in stamps if s.precision != "day"), None)
    if timed:
        return timed
    zone_day = next((s for stamps in zone for s in stamps), None)
    meta = _meta_stamps(page)
    meta_timed = next((s for s in meta if s.precision != "day"), None)
    if meta_timed and (zone_day is None or meta_timed.moment.date() == zone_day.moment.date()):
        return meta_timed
    if zone_day or meta:
        return zone_day or meta[0]
    from_url = url_date(url or "") or url_date(canonical_url(page, ""))
    if headline_element is None or _CJK.search(headline_element.text_content()):
        # a page-wide look only where a Chinese date line is to be expected
        for stamp in find_stamps(" ".join(page.root.xpath(f"({_VISIBLE_TEXT})[position() <= 2000]"))):
            if stamp.precision != "day":
                if from_url is None or stamp.moment.date() == from_url.moment.date():
                    return stamp
                break
    return from_url or _htmldate(page)


def _meta_stamps(page: Selector) -> list[Stamp]:
    """Publication times the page's meta tags and JSON-LD give, most trusted first."""
    found: dict[str, str] = {}
    for meta in page.xpath(_DATE_META):
        attrib = meta.attrib
        name = (attrib.get("property") or attrib.get("name") or attrib.get("itemprop") or "").strip().lower()
        if name in _PUBLISHED_META and name not in found:
            found[name] = attrib["content"]
    stamps = [stamp for name in _PUBLISHED_META if (stamp := parse_stamp(found.get(name)))]
    for script in page.xpath("//script[@type='application/ld+json']/text()").getall():
        if match := _JSON_LD_PUBLISHED.search(script):
            if stamp := parse_stamp(match.group(1)):
                stamps.append(stamp)
    return stamps


def _htmldate(page: Selector) -> Stamp | None:
    """htmldate's reading of meta and URL (no page-wide search: that is slow and reads body dates)."""
    from htmldate import find_date  # comes with trafilatura; imported when needed, it is a last resort

    try:
        found = find_date(page.root, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate on a malformed page: no date rather than no article
        return None
    return parse_stamp(found, CHINA_TZ) if found else None


# ---------------------------------------------------------------- source and editor

# "来源：新华网", "来源: 新华网", "稿件来源：", "文章来源：", "本文来源于 北京商报", "来源：[ 国际金融报 ]"
_SOURCE_LABEL = re.compile(r"(?:稿件|文章|新闻|信息|本文)?来源(?:(?:于|自)\s*[:：]?|\s*[:：])\s*(?P<rest>.*)$")
_SOURCE_NAME = re.compile(r"^[\[【（(《「]?\s*(?P<name>[^\s:：|｜,，;；、（）()《》「」【】\[\]]{2,20})")
# a label whose value is in the next text node: "来源：" + "<a>人民日报</a>", "来源：[" + "国际金融报"
_OPEN_LABEL = re.compile(r"(?:[:：]\s*[\[【（(]?|来源于)\s*$")
# words after 来源 that are no outlet: the label of the next field, or a placeholder
_NOT_SOURCE = re.compile(r"^(?:作者|编辑|责任编辑|责编|时间|发布时间|日期|字号|网络|未知|本站|本网|互联网|转载)")
# elements that hold the outlet without a label: class="source", "media-name", "sourceTitleText-3cWS…"
_SOURCE_CLASS = re.compile(r"source|media", re.IGNORECASE)
# an outlet's name: "海外网", "新华社", "经济日报", "北京商报", "《理财周刊》", and the
# finance desks syndicated copies name ("市场资讯", "第一财经") (next to the dateline)
_OUTLET = re.compile(
    r"^《?(?P<name>[\u3400-\u9fff·]{1,12}(?:网|網|报|報|社|新闻|新聞|日报|晚报|周刊|杂志|电视台|广播电台|客户端|资讯|財經|财经))》?$"
)
_NAME_TEXT = re.compile(r"^[^\d:：/|｜]{2,20}$")


def _zone_lines(after: list[str], before: list[str]) -> list[str]:
    """The zone's text nodes, a label and its value joined ("来源：" + "<a>人民日报</a>")."""
    lines = []
    for texts in (after, list(reversed(before))):
        for text in texts:
            if lines and _OPEN_LABEL.search(lines[-1]):
                lines[-1] = f"{lines[-1]} {text}"
            else:
                lines.append(text)
    return lines


def page_source(page: Selector, headline_element=None) -> str | None:
    """The outlet the header zone names, else meta[name=source].

    In the zone, in this order: a 来源 label ("来源：XXX", "稿件来源：", "本文来源于 XXX");
    an element classed as the source or media name; an outlet's name ("…网/报/社")
    right before or after the dateline.
    """
    after, before = _zone_nodes(headline_element)
    for line in _zone_lines([t for t, _ in after], [t for t, _ in before]):
        for part in line.split("来源")[1:]:
            if name := _source_name("来源" + part):
                return name
    for text, element in after + before:
        classes = " ".join(filter(None, (element.get("class"), element.get("id"), _parent_class(element))))
        name = re.sub(r"^(?:来源|媒体)\s*[:：]\s*", "", text).strip("《》 ")
        if _SOURCE_CLASS.search(classes) and _NAME_TEXT.match(name) and not _NOT_SOURCE.match(name):
            return name
    if name := _outlet_by_dateline([t for t, _ in after]):
        return name
    meta = normalize_space(page.xpath("//meta[translate(@name,'SOURCE','source')='source']/@content").get() or "")
    meta = re.sub(r"^(?:稿件|文章)?来源\s*[:：]\s*", "", meta)
    return meta if 2 <= len(meta) <= 30 and not _NOT_SOURCE.match(meta) else None


def _parent_class(element) -> str | None:
    parent = element.getparent()
    return parent.get("class") if parent is not None else None


def _outlet_by_dateline(texts: list[str]) -> str | None:
    """An outlet's name in the text node right before or after the dateline ("·" separators aside)."""
    texts = [t for t in texts if t.strip("·|｜-— ")]
    for n, text in enumerate(texts):
        if find_stamps(text):
            for neighbour in (texts[n + 1 : n + 2] + texts[max(n - 1, 0) : n]):
                if match := _OUTLET.match(neighbour):
                    return match.group("name")
            tail = re.sub(r"^.*\d[:：]\d{2}(?:[:：]\d{2})?\s*", "", text)  # "2005年03月21日 11:21 《理财周刊》"
            if tail != text and (match := _OUTLET.match(tail)):
                return match.group("name")
            return None
    return None


def _source_name(text: str) -> str | None:
    match = _SOURCE_LABEL.search(text)
    if not match:
        return None
    rest = match.group("rest").strip()
    if _NOT_SOURCE.match(rest):
        return None
    name = _SOURCE_NAME.match(rest)
    return name.group("name") if name and not _NOT_SOURCE.match(name.group("name")) else None


_EDITOR_LABEL = re.compile(
    r"(?P<label>责任编辑|责编|(?<![总主副任])编辑)\s*[:：]\s*"
    r"(?P<name>(?:(?!责任|责编)[\u3400-\u9fff·]){2,6}(?:[、，,]\s*[\u3400-\u9fff·]{2,6})*|[A-Za-z][A-Za-z0-9_]{1,19})"
)
EDITOR_LINES = 20  # text nodes with 编 read after the headline, up to the article's end


def page_editor(page: Selector, headline_element=None) -> str | None:
    """The 责任编辑 of the header zone or the article's end, else a plain "编辑：", else meta[name=editor].

    "编辑：倪仕轩 责任编辑：林涛" gives 林涛; "(责编：胡永秋、杨光宇)" gives "胡永秋、杨光宇".
    """
    # text nodes with 编 in them, after the headline (else anywhere): the filter runs in libxml2
    editor_text = "text()[contains(., '编')][not(ancestor::script|ancestor::style|ancestor::noscript)]"
    if headline_element is not None:
        texts = headline_element.xpath(f"following::{editor_text}[position() <= {EDITOR_LINES}]")
    else:
        texts = page.root.xpath(f"(//body//{editor_text})[position() <= {EDITOR_LINES}]")
    plain = None
    for text in texts:
        # white space only: normalize_space would join "倪仕轩\n责任编辑" into one name
        for match in _EDITOR_LABEL.finditer(" ".join(text.split())):
            name = re.sub(r"[，,]\s*", "、", match.group("name"))
            if match.group("label") != "编辑":
                return name
            plain = plain or name.split("、")[0]
    if plain:
        return plain
    meta = normalize_space(page.xpath("//meta[translate(@name,'EDITOR','editor')='editor']/@content").get() or "")
    return meta if 2 <= len(meta) <= 12 and _CJK.search(meta) else None
