"""Bylines and credits at the edges of a body: people go to `authors`, outlets to `source`.

Handles lines such as "文/张三", "作者：张三", "（记者 张三 李四）", "来源：中国国防报",
and credits closing the last paragraph: "…回应。（中国南海新闻网 姚凌）",
"…(信报记者 蔡雪婧)", "…（完）".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CJK = r"\u3400-\u9fff"
_TERMINAL = "。！？!?…”」』\"'）)"

# A whole line that is only a byline.
BYLINE = re.compile(
    rf"^[（(\[【]?\s*(?:文\s*[/｜|丨]|作者\s*[:：\s]|撰文\s*[:：/]|[{_CJK}]{{0,8}}记者\s*[:：]?|文\s*[:：]|原创\s*[:：])\s*"
    rf"(?P<names>[{_CJK}A-Za-z·．. 、，,《》]{{2,40}}?)\s*[）)\]】]?$"
)
# The desk's own credits closing a story: "编辑 刘晓阳 校对 李铭", "编辑/倪家宁" (not the 责任编辑).
DESK_LINE = re.compile(
    rf"^(?:(?:编辑|校对|审校|美编|总?监\s*制|统筹|审核|审\s*读|排版)\s*[/:：|｜丨]?\s*[{_CJK}· ]{{2,12}}?\s*[|｜丨]?\s*){{1,6}}$"
)
# A closing line that is only a credit in parentheses: "（羅森）", "（张立军 吴 浩）".
CREDIT_LINE = re.compile(rf"^[（(]\s*(?P<names>[{_CJK}A-Za-z· ]{{2,24}})\s*[）)]$")
# "（记者 张三）" inside the first paragraph: the person is an author, the text stays.
INLINE_REPORTER = re.compile(rf"[（(]\s*(?:本报|本刊|特约)?记者\s*(?P<names>[{_CJK} ·]{{2,20}}?)\s*[）)]")
# A whole line naming the outlet.
SOURCE_LINE = re.compile(
    r"^[（(]?\s*(?:(?:本文|稿件|文章)?来源\s*[:：|｜]|转自)\s*《?(?P<source>[^）)《》]{1,40}?)》?\s*[）)]?$"
)
# A credit in parentheses closing the last paragraph, after the sentence ends.
TRAILING_CREDIT = re.compile(
    rf"(?:(?<=[{re.escape(_TERMINAL)}])\s*[（(](?:(?:编译|文|作者|撰文)\s*[/／:：]\s*)?(?P<credit>[{_CJK}A-Za-z·． ]{{1,24}})"
    rf"|[（(](?P<source>来源\s*[:：][^）)]{{1,30}}))[）)]\s*$"
)
# The outlet's collective byline closing a story names nobody: "（经济日报评论员）", "（本报评论员）".
# "（作者韩涵系政邦智库研究员）": the writer's note closing a commentary.
AUTHOR_NOTE = re.compile(rf"(?<=[{re.escape(_TERMINAL)}])\s*[（(]作者(?P<names>[{_CJK}·]{{2,4}}?)系[^（）()]{{2,40}}[）)]\s*$")
COLLECTIVE_BYLINE = re.compile(rf"(?<=[{re.escape(_TERMINAL)}])\s*[（(][{_CJK}]{{0,10}}评论员[）)]\s*$")
TRAILING_END = re.compile(r"\s*[（(]\s*完\s*[）)]\s*$")
# "（作者：方敏北京大学经济学院教授）": a writer's note closing the story, even when no name can be cut out of it
WRITER_NOTE = re.compile(r"^[（(]\s*(?:作者|撰文|文)\s*[:：/]")

# Words that make a token an outlet or a role, not a person.
_NOT_PERSON = re.compile(
    r"(网|报|社|台|刊|新闻|记者|通讯员|编辑|日报|晚报|周刊|杂志|集团|公司|中心|研究院|客户端|综合|图|摄|注|完|续|"
    r"主笔|撰稿人|评论员|专栏作家|研究员)$|》"
)
_ROLE_SUFFIX = re.compile(r"(?<=..)(?:编译|撰文|整理|采写)$")
_PLACE_REPORT = re.compile(r"(?:报道|发自\S*)$")  # "上海报道": a place, not a person
_ROLE_PREFIX = re.compile(r"^(?:特约|实习生|通讯员|本报|本刊|首席)?(?:记者|通讯员|实习生)")


@dataclass
class Credits:
    authors: list[str] = field(default_factory=list)
    source: str | None = None


_OUTLET_HINT = re.compile(r"(网|报|社|台|刊|新闻|日报|晚报|周刊|杂志|集团|公司|中心|研究院|客户端|APP|财经|证券|银行|基金)")


def _looks_like_person(text: str) -> bool:
    """A 2–3 character Chinese name with no outlet word in it."""
    return bool(re.fullmatch(f"[{_CJK}]{{2,3}}", text)) and not _OUTLET_HINT.search(text)


def person_names(text: str) -> list[str]:
    """'张立军 吴 浩' → ['张立军', '吴浩']; '中国南海新闻网 姚凌' → ['姚凌']; '信报记者 蔡雪婧' → ['蔡雪婧']."""
    tokens = [t for t in re.split(r"[\s、，,/|｜]+", text.strip()) if t]
    names: list[str] = []
    pending = ""
    for token in tokens:
        token = _ROLE_SUFFIX.sub("", _ROLE_PREFIX.sub("", token))
        if not token or _NOT_PERSON.search(token) or _PLACE_REPORT.search(token):
            continue
        if len(token) == 1 and re.fullmatch(f"[{_CJK}]", token):
            # a two-character name padded to three columns: "吴 浩"
            pending += token
            if len(pending) == 2:
                names.append(pending)
                pending = ""
            continue
        if re.fullmatch(f"[{_CJK}·]{{2,5}}", token) or re.fullmatch(r"[A-Za-z][A-Za-z .·-]{1,40}", token):
            names.append(token)
    return names


def _strip_paragraph_credit(line: str, credits: Credits) -> str:
    """A credit closing a paragraph: "…回应。（中国南海新闻网 姚凌）" or "…（来源：中国经济网）"."""
    line = COLLECTIVE_BYLINE.sub("", TRAILING_END.sub("", line))
    if note := AUTHOR_NOTE.search(line):
        credits.authors += [n for n in person_names(note.group("names")) if n not in credits.authors]
        return line[: note.start()].rstrip()
    match = TRAILING_CREDIT.search(line)
    if not match:
        return line
    if source := SOURCE_LINE.match(match.group("source") or ""):
        credits.source = credits.source or source.group("source").strip()
        return line[: match.start()].rstrip()
    if names := person_names(match.group("credit") or ""):
        credits.authors += [n for n in names if n not in credits.authors]
        return line[: match.start()].rstrip()
    return line


def take_credits(lines: list[str]) -> tuple[list[str], Credits]:
    """Read bylines, credits and 来源 lines, removing them from the body.

    Leading byline lines, 来源 lines anywhere, paragraph-closing credits in
    parentheses (stories often end mid-body, before a 相关新闻 part), and the
    reporter named in the first paragraph ("（记者 张三）", kept in the text).
    """
    credits = Credits()
    lines = list(lines)
    # bylines among the first lines: before the text, or after a dateline or lede
    # ("新华社北京5月9日电 题：…" then "新华社记者邹多为、唐诗凝、丁乐")
    for index in reversed(range(min(3, len(lines)))):
        if (match := BYLINE.match(lines[index])) and (names := person_names(match.group("names"))):
            credits.authors = names + [n for n in credits.authors if n not in names]
            lines.pop(index)
    if lines and (match := INLINE_REPORTER.search(lines[0])):
        credits.authors += [n for n in person_names(match.group("names")) if n not in credits.authors]
    kept = []
    for line in lines:
        if match := SOURCE_LINE.match(line):
            named = match.group("source").strip()
            if _looks_like_person(named):  # old pages credit the writer as 来源
                credits.authors += [n for n in person_names(named) if n not in credits.authors]
            else:
                credits.source = credits.source or named
            continue
        if TRAILING_END.fullmatch(line):
            continue
        line = _strip_paragraph_credit(line, credits)
        if line:
            kept.append(line)
    while kept and DESK_LINE.match(kept[-1]):
        kept.pop()
    while kept and (match := BYLINE.match(kept[-1]) or CREDIT_LINE.match(kept[-1])):  # trailing bylines
        names = person_names(match.group("names"))
        if not names and not WRITER_NOTE.match(kept[-1]):
            break
        credits.authors += [n for n in names if n not in credits.authors]
        kept.pop()
    return kept, credits
