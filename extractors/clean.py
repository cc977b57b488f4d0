"""Normalisers shared by every extractor: text lines, symbols, language."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors import boilerplate
from extractors.credits import take_credits

_SPACE = re.compile(r"[\s\u00a0\u3000\u2002\u2003\u200b\ufeff]+")
# A source line break between two CJK characters is not a space (hard-wrapped old pages).
_CJK_WRAP = re.compile(r"(?<=[\u3400-\u9fff\u3000-\u303f\uff00-\uffef])[ \t\r]*\n\s*(?=[\u3400-\u9fff\u3000-\u303f\uff00-\uffef])")
# Private-use code points: GBK user-defined characters that decode to nothing readable.
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")

# What a headline list leaves at the end of a body once its links are pruned: the
# timestamps of its items ("- 2020年07月08日 13:36:14"; a day alone may sign an
# announcement, so a time of day is required) and its heading ("理论新闻精选："), a short
# heading announcing what no longer follows.
_DANGLING_HEADING = re.compile(r"^[^。！？!?，,；;]{1,14}[:：]$")
_BARE_TIMESTAMP = re.compile(
    r"^[-·•*]?\s*(?:19|20)\d{2}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}\s*日?\s*\d{1,2}:\d{2}(?::\d{2})?$"
)


def _drop_list_remnants(kept: list[str], dropped: list[str]) -> None:
    while kept and (_BARE_TIMESTAMP.match(kept[-1]) or _DANGLING_HEADING.match(kept[-1])):
        dropped.append(kept.pop())

# Brackets left empty once a keyword link inside them is dropped: "谷歌(微博)" → "谷歌()".
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|（\s*）")


def normalize_space(text: str) -> str:
    text = _PRIVATE_USE.sub("", _CJK_WRAP.sub("", text))
    return _SPACE.sub(" ", text).strip()


@dataclass
class CleanBody:
    body: str
    editor: str | None = None
    original_title: str | None = None
    authors: list[str] = field(default_factory=list)
    source: str | None = None  # from a 来源 line, when the body has one
    dropped: list[str] = field(default_factory=list)


def _same_title(line: str, title: str) -> bool:
    """The headline repeated in the body, allowing for punctuation differences."""
    strip = lambda text: re.sub(r"[\W_]+", "", text)  # noqa: E731
    return strip(line) == strip(title)


# Text after a paragraph's last sentence end, where a credit or promo glued onto it sits
# when the page had it in an inline element: "…行稳致远！编辑|禤志杰".
_GLUED_TAIL = re.compile(r"(?<=[。！？!?])[^。！？!?]{2,40}$")


def _split_lines(lines: list[str], families: boilerplate.Matcher) -> list[str]:
    """Normalised non-empty lines; a glued tail that is boilerplate on its own becomes a line of its own."""
    out = []
    for raw in lines:
        line = normalize_space(_EMPTY_BRACKETS.sub("", raw))
        if not line:
            continue
        glued = _GLUED_TAIL.search(line)
        if glued and families.match(glued.group(0).strip()) is not None:
            out += [line[: glued.start()], glued.group(0).strip()]
        else:
            out.append(line)
    return out


def clean_lines(lines: list[str], title: str | None = None) -> CleanBody:
    """Normalise body lines and drop boilerplate, moving editor/原标题/credit lines to fields."""
    result = CleanBody(body="")
    kept: list[str] = []
    fields: dict[str, str] = {}  # family name → first value found
    families = boilerplate.matcher()
    for line in _split_lines(lines, families):
        hit = families.match(line)
        if hit is not None and hit.family.kind == "field":
            fields.setdefault(hit.family.name, hit.value)
            continue
        if hit is not None and hit.family.kind == "cut":
            result.dropped.append(line)
            if kept:  # a disclaimer before any article text is dropped alone
                break
            continue
        if match := boilerplate.ORIGINAL_TITLE_LINE.match(line):
            result.original_title = result.original_title or match.group("title")
            continue
        if hit is not None or (title and len(kept) < 3 and _same_title(line, title)):
            result.dropped.append(line)
            continue
        kept.append(line)
    result.editor = fields.get("editor_in_charge") or fields.get("editor")
    _drop_list_remnants(kept, result.dropped)
    kept, credits = take_credits(kept)
    _drop_list_remnants(kept, result.dropped)
    result.authors, result.source = credits.authors, credits.source
    result.body = "\n".join(kept)
    return result


_SYMBOL_PREFIXES = (
    ("usstock_", "us"),
    ("hkstock_", "hk"),
    ("stock_", ""),
    ("gb_", "us"),
)
_SYMBOL = re.compile(r"^(?P<market>sh|sz|bj|hk|us)(?P<code>[A-Za-z0-9.]+)$")


def normalize_symbol(raw: str) -> str | None:
    """Sina markup ids to symbols: 'usstock_JPM' → 'usJPM', 'stock_sh600000' → 'sh600000'."""
    raw = raw.strip()
    for prefix, market in _SYMBOL_PREFIXES:
        if raw.lower().startswith(prefix):
            raw = market + raw[len(prefix) :]
            break
    match = _SYMBOL.match(raw)
    if not match:
        return None
    market, code = match.group("market").lower(), match.group("code")
    return market + (code.upper() if market == "us" else code.lower())


# Frequent characters that differ between Traditional and Simplified script.
_TRADITIONAL = set("這個們來時國會說對為與後發經過還現開關於體學從進動點長問題實當見間將變無應認氣區歷戰紀錄聽讓並員樣機報導")
_SIMPLIFIED = set("这个们来时国会说对为与后发经过还现开关于体学从进动点长问题实当见间将变无应认气区历战纪录听让并员样机报导")


_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def detect_language(text: str, sample: int = 4000) -> str | None:
    """'zh' (Simplified), 'zh-Hant' (Traditional), 'en' for Latin-script text, else None."""
    text = text[:sample]
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if cjk == 0:
        return "en" if latin > 50 else None
    if latin > cjk * 4:
        return "en"
    traditional = sum(text.count(ch) for ch in _TRADITIONAL)
    simplified = sum(text.count(ch) for ch in _SIMPLIFIED)
    return "zh-Hant" if traditional > simplified else "zh"
