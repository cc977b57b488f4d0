"""Picture captions typed as ordinary text: which nodes under an <img> are its caption.

Editors type captions as plain paragraphs under the picture ("工作人员将取下悬挂了一年的
毛主席旧画像。"), so markup alone rarely says "caption". The rule (site-neutral):

1. The picture stands alone: no text before it in its block (a picture inside a
   sentence has no caption), and no later picture in the block (that one takes it).
2. The candidate is the text after the picture in the same block (``<p><img><br>…</p>``),
   else the block's next sibling (a <p>, <div>, <span>, <font>, <center>…) without a picture.
3. The candidate reads as a caption: at most CAPTION_MAX characters (CREDIT_MAX with a
   credit word), not bold (a sub-heading), not ending in "，" "：" "、" "；" (which flow into
   the next paragraph).
4. And something says so — a short paragraph under a picture is often article text:
   - a text signal: a credit (图源, 摄, 供图, 视觉中国, 资料图 …) or a caption marker
     (▲, △, 图为, 上图 …); or
   - a caption-like class (caption, desc, pic, img, photo, tu…) or <figcaption>; or
   - centring (<center>, align=center, text-align:center, a class with "center") or
     a distinct style (<small>, <font size|color>, a font-size/colour style) that the
     text next to it does not share: pages that centre or colour every paragraph
     give no evidence.

`find_caption(img)` applies the rule to one picture; `drop_captions(root)` removes
every caption from a tree (for the generic path, before trafilatura reads it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from extractors.article import Image
from extractors.clean import normalize_space
from extractors.rules import remove_element

CAPTION_MAX = 60  # characters of a caption without a credit
CREDIT_MAX = 120  # with a credit word ("…中新社记者 杜洋 摄")

_INLINE = frozenset("a span font strong b em i u small picture label".split())
_BLOCKS = frozenset("p div center figure section".split())
_CANDIDATE_TAGS = frozenset("p div center span font figcaption small em i section h6".split())
_SKIP = frozenset("script style noscript template".split())
# elements that end a line of text: a loose caption sits between two of them
_LINE_BREAKS = frozenset("br p div center figure section table ul ol h1 h2 h3 h4 h5 h6 blockquote".split())

CREDIT = re.compile(r"图源|图片来源|资料图|摄$|摄）|摄\)|摄影|图/|图：|图:|供图|视觉中国|东方IC|截图|（图）|\(图\)")
MARKER = re.compile(r"^(?:[▲△↑⬆▼▽]|(?:图为|上图|下图|左图|右图|图片说明|图注)|图\s?\d+\s?[:：、])")
_FLOWS_ON = tuple("，,、：:；;—")
# class names split into words ("img_descr", "picIntro", "tu-txt"): words that name a picture's text
_CLASS_WORD = re.compile(r"[a-z]+|[A-Z][a-z]*")
_CAPTION_WORDS = ("caption", "desc", "pic", "img", "image", "photo", "figure")
_CAPTION_WORDS_EXACT = frozenset({"tu", "tuzhu", "tupian", "zhu"})
_CENTRED_STYLE = re.compile(r"text-align\s*:\s*center", re.I)
_STYLE_KEYS = re.compile(r"(font-size|color)\s*:\s*([^;]+)", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)


@dataclass
class Caption:
    """A caption's text and where it sits: whole elements, and tails (text after an element)."""

    text: str
    elements: list = field(default_factory=list)
    tails: list = field(default_factory=list)

    def remove(self) -> None:
        for element in self.tails:
            element.tail = None
        for element in self.elements:
            remove_element(element)


def find_caption(img: etree._Element, stop: etree._Element | None = None) -> Caption | None:
    """The caption of the picture `img`, or None; `stop` is the article container (not climbed past)."""
    figure = next((a for a in img.iterancestors("figure") if stop is None or stop in a.iterancestors()), None)
    if figure is not None:
        captions = figure.findall(".//figcaption")
        text = normalize_space(" ".join(_text(c) for c in captions))
        if text:
            return Caption(text, elements=captions)
    unit = img
    while unit.getparent() is not None and unit.getparent().tag in _INLINE and unit.getparent() is not stop:
        unit = unit.getparent()
    if (loose := _loose_caption(unit)) is not None:
        return loose
    while (parent := unit.getparent()) is not None and parent is not stop:
        if normalize_space(_text_before(unit, parent)):
            return None  # the picture sits inside a sentence
        after = _after(unit, parent)
        if any(isinstance(node, etree._Element) and _has_picture(node) for node, _ in after):
            return None  # a later picture in the same block takes the caption
        text = normalize_space(" ".join(part for _, part in after))
        if text:
            if parent.tag not in _BLOCKS:
                return None
            return _in_block(parent, after, text)
        if parent.tag not in _BLOCKS:
            break
        unit = parent
        if _next_element(unit) is not None or normalize_space(unit.tail or ""):
            break
    return _next_sibling_caption(unit)


def drop_captions(root: etree._Element, base_url: str | None = None) -> dict[etree._Element, Image]:
    """Remove every picture caption in `root`; each picture's <img> → the picture with its caption, in order.

    For the generic path: run it on the parsed page before trafilatura, so that
    captions never reach the body. Lazy pictures are read from data-src & co.
    """
    images = {}
    for img in list(root.iter("img")):
        src = picture_src(img)
        if not src:
            continue
        caption = find_caption(img)
        if caption is not None:
            caption.remove()
        images[img] = Image(src=urljoin(base_url or "", src), caption=caption.text if caption else None)
    return images


def picture_src(img: etree._Element) -> str | None:
    """The picture's address: lazy-loaded pictures keep it in a data- attribute; data: URIs are placeholders."""
    src = next((img.get(a) for a in ("data-src", "data-original", "data-lazyload") if img.get(a)), None)
    src = (src or img.get("src") or "").strip()
    return None if not src or src.startswith("data:") else src


# Pictures that are page furniture, not the article's: spacers, icons, logos, share
# and QR images, avatars, placeholders (by file or class name), hidden ones, tiny
# ones and banners (a declared or file-named size of 4:1 or wider).
_FURNITURE_NAME = re.compile(
    r"space|blank|default|null|loading|icon|logo|share|qrcode|ewm|erweima|avatar|btn|arrow",
    re.I,
)
_FURNITURE_ALT = re.compile(r"关注|二维码|扫码|公众号|下载|购买|广告")
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SIZE_IN_NAME = re.compile(r"(\d{2,4})[x*](\d{2,4})")


def is_furniture(img: etree._Element, src: str) -> bool:
    """True for a picture that belongs to the page's chrome, not to the article."""
    name = src.rsplit("/", 1)[-1].split("?", 1)[0]
    if _FURNITURE_NAME.search(name) or _FURNITURE_NAME.search(img.get("class") or ""):
        return True
    if _FURNITURE_ALT.search(img.get("alt") or ""):
        return True
    if any(_HIDDEN.search(e.get("style") or "") for e in (img, *img.iterancestors())):
        return True
    width, height = _size(img.get("width")), _size(img.get("height"))
    if (width and width < 60) or (height and height < 60):
        return True
    if not (width and height) and (match := _SIZE_IN_NAME.search(name)):
        width, height = int(match.group(1)), int(match.group(2))
    return bool(width and height and width >= 4 * height)


def _size(value: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", value or "")
    return int(match.group(1)) if match else None


# --- the candidates -----------------------------------------------------------


def _in_block(block: etree._Element, after: list, text: str) -> Caption | None:
    """Text after the picture inside its own block (<p><img><br>caption</p>)."""
    if not _reads_as_caption(text, [node for node, _ in after if isinstance(node, etree._Element)]):
        return None
    wrappers = [node for node, part in after if isinstance(node, etree._Element) and normalize_space(part)]
    styled = len(wrappers) == 1 and normalize_space(_text(wrappers[0])) == text and _signals(wrappers[0], deep=True)
    signals = _signals(block) | (styled or set())
    neighbours = [_previous_text_block(block), _next_text_block(block)]
    if not (_text_signal(text) or _class_signal(block) or _distinct(signals, neighbours)):
        return None
    return Caption(
        text,
        elements=[node for node, _ in after if isinstance(node, etree._Element)],
        tails=[node for node, _ in after if not isinstance(node, etree._Element)],
    )


def _loose_caption(unit: etree._Element) -> Caption | None:
    """A credit typed as loose text right after a picture that starts a line, in no element of its own.

    "<p><img></p>重庆市公安局供图 华龙网发<p>…" or "<img><br>…供图<br>": only a line
    that credits the picture (a credit word or a caption marker) counts, since
    a loose line has no markup to vouch for it; it must end where a block or a
    <br> starts.
    """
    carrier = unit
    if not normalize_space(unit.tail or "") and _is_line_break(unit.getnext()):
        carrier = unit.getnext()  # <img><br>caption
    text = normalize_space(carrier.tail or "")
    if not text or not _text_signal(text) or not _reads_as_caption(text, []):
        return None
    previous = unit.getprevious()
    if previous is None:
        parent = unit.getparent()
        starts_line = parent is not None and not normalize_space(parent.text or "")
    else:
        starts_line = _is_line_break(previous) and not normalize_space(previous.tail or "")
    nxt = carrier.getnext()
    ends_line = nxt is None or _is_line_break(nxt)
    return Caption(text, tails=[carrier]) if starts_line and ends_line else None


def _is_line_break(element) -> bool:
    return element is not None and isinstance(element.tag, str) and element.tag in _LINE_BREAKS


def _next_sibling_caption(unit: etree._Element) -> Caption | None:
    """The block right after the picture's block, when it reads and looks like a caption."""
    if normalize_space(unit.tail or ""):
        return _loose_caption(unit)  # text runs on after the picture: a credit line at most
    candidate = unit.getnext()
    while candidate is not None and (
        not isinstance(candidate.tag, str) or (candidate.tag == "br" or not _text(candidate).strip())
    ):
        if isinstance(candidate.tag, str) and _has_picture(candidate):
            return None
        if normalize_space(candidate.tail or ""):
            return None
        candidate = candidate.getnext()
    if candidate is None or candidate.tag not in _CANDIDATE_TAGS or _has_picture(candidate):
        return None
    text = normalize_space(_text(candidate))
    if not _reads_as_caption(text, [candidate]):
        return None
    neighbours = [_previous_text_block(unit), _next_text_block(candidate)]
    if not (
        _text_signal(text)
        or _class_signal(candidate)
        or candidate.tag == "figcaption"
        or _distinct(_signals(candidate, deep=True), neighbours)
    ):
        return None
    return Caption(text, elements=[candidate])


def _reads_as_caption(text: str, elements: list) -> bool:
    if not text or text.endswith(_FLOWS_ON):
        return False
    if len(text) > (CREDIT_MAX if CREDIT.search(text) else CAPTION_MAX):
        return False
    # a bold line under a picture is a sub-heading, unless it credits the picture
    return not any(_is_bold(e) for e in elements) or bool(_text_signal(text))


def _text_signal(text: str) -> bool:
    return bool(CREDIT.search(text) or MARKER.search(text))


def _class_signal(element: etree._Element) -> bool:
    return any(word.startswith(_CAPTION_WORDS) or word in _CAPTION_WORDS_EXACT for word in _class_words(element))


def _class_words(element: etree._Element) -> list[str]:
    return [word.lower() for token in _classes(element) for word in _CLASS_WORD.findall(token)]


def _signals(element: etree._Element, deep: bool = False) -> set[str]:
    """Centring and styling of an element (and, deep, of the wrappers holding all its text)."""
    found: set[str] = set()
    nodes = [element]
    if deep:  # <p><span style="color:gray">caption</span></p>: the wrapper carries the style
        node = element
        while len(node) == 1 and not (node.text or "").strip() and not (node[0].tail or "").strip():
            node = node[0]
            nodes.append(node)
    for node in nodes:
        style = node.get("style") or ""
        if node.tag == "center" or (node.get("align") or "").lower() == "center" or _CENTRED_STYLE.search(style):
            found.add("centred")
        if any(word in ("center", "centre") for word in _class_words(node)):
            found.add("centred")
        if node.tag == "small":
            found.add("small")
        if node.tag == "font" and (node.get("size") or node.get("color")):
            found.add(f"font:{node.get('size')}:{(node.get('color') or '').lower()}")
        for key, value in _STYLE_KEYS.findall(style):
            found.add(f"{key.lower()}:{value.strip().lower().replace(' ', '')}")
    return found


def _distinct(signals: set[str], neighbours: list) -> bool:
    """Some centring/styling the text around the picture does not share."""
    if not signals:
        return False
    shared: set[str] = set()
    for neighbour in neighbours:
        if neighbour is not None:
            shared |= _signals(neighbour, deep=True)
    return bool(signals - shared)


# --- tree helpers -------------------------------------------------------------


def _text(element: etree._Element) -> str:
    if not isinstance(element.tag, str) or element.tag in _SKIP:
        return ""
    parts = [element.text or ""]
    for child in element:
        parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _has_picture(element: etree._Element) -> bool:
    return element.tag == "img" or next(element.iter("img"), None) is not None


def _classes(element: etree._Element) -> list[str]:
    return (element.get("class") or "").split()


def _is_bold(element: etree._Element) -> bool:
    if element.tag in ("b", "strong") or _BOLD_STYLE.search(element.get("style") or ""):
        return True
    text = normalize_space(_text(element))
    return any(normalize_space(_text(e)) == text for e in element.iter("b", "strong") if e is not element)


def _text_before(unit: etree._Element, parent: etree._Element) -> str:
    parts = [parent.text or ""]
    for sibling in parent:
        if sibling is unit:
            break
        parts.append(_text(sibling) if isinstance(sibling.tag, str) else "")
        parts.append(sibling.tail or "")
    return "".join(parts)


def _after(unit: etree._Element, parent: etree._Element) -> list:
    """What follows `unit` inside `parent`, in order: (element, its text) and (_TailOf(element), tail text)."""
    found: list = []
    if (unit.tail or "").strip():
        found.append((_TailOf(unit), unit.tail))
    for sibling in unit.itersiblings():
        if isinstance(sibling.tag, str):
            found.append((sibling, _text(sibling)))
        if (sibling.tail or "").strip():  # a comment's tail is text too
            found.append((_TailOf(sibling), sibling.tail))
    return found


class _TailOf:
    """The tail text of an element, as one of a caption's parts."""

    def __init__(self, element: etree._Element):
        self.element = element

    @property
    def tail(self):
        return self.element.tail

    @tail.setter
    def tail(self, value):
        self.element.tail = value


def _next_element(element: etree._Element):
    return next((s for s in element.itersiblings() if isinstance(s.tag, str)), None)


def _next_text_block(element: etree._Element):
    """The element right after `element` when it holds text and no picture (the paragraph that follows)."""
    nxt = _next_element(element)
    while nxt is not None and nxt.tag == "br":
        nxt = _next_element(nxt)
    return nxt if nxt is not None and _text(nxt).strip() and not _has_picture(nxt) else None


def _previous_text_block(element: etree._Element):
    previous = next((s for s in element.itersiblings(preceding=True) if isinstance(s.tag, str) and s.tag != "br"), None)
    return previous if previous is not None and _text(previous).strip() and not _has_picture(previous) else None
