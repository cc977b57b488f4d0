"""Boilerplate leaks: known non-article strings found in a predicted body.

The markers are hand-written here, from EXTRACTION_SPEC.md ("The body drops")
and issue 10, and deliberately do not reuse the extractors' patterns
(extractors/boilerplate*.py): a weakened extractor pattern must not weaken
the check. The body and the markers are compared after NFKC ("，"→",",
"："→":") with the spaces beside CJK characters removed, so width and spacing
variants still count. Short markers carry context (a colon, a line anchor, a
neighbour) so that article prose using the same words is not counted.
Chinese markers apply to Chinese pages only; the generic ones (copyright
line, live-quote fragment, investing disclaimer) apply to every page.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# (label, regex on the normalised body, applies to every language)
MARKERS: tuple[tuple[str, str, bool], ...] = (
    ("责任编辑", r"责任编辑", False),
    ("编辑: line", r"^[(\[【]?编辑:", False),
    ("原标题:", r"原标题:", False),
    ("免责声明", r"免责声明", False),
    ("新浪声明", r"新浪声明", False),
    ("特别声明:", r"特别声明:", False),
    ("本文仅代表作者", r"本文仅代表作者", False),
    ("与本网无关", r"与本网无关", False),
    ("炒股就看金麒麟", r"炒股就看金麒麟", False),
    ("海量资讯", r"海量资讯", False),
    ("新浪财经APP", r"新浪财经APP", False),
    ("安装新浪财经客户端", r"安装新浪财经客户端", False),
    ("【下载地址】", r"【下载地址】", False),
    ("点个爱心", r"点个爱心", False),
    ("扫一扫", r"扫一扫", False),
    ("关注公众号", r"关注公众号", False),
    ("新浪财经股吧", r"新浪财经股吧", False),
    ("违法和不良信息举报", r"违法和不良信息举报", False),
    ("版权所有", r"版权所有(?![者人方权])", False),
    ("版权均属", r"版权均属", False),
    ("字号 大 中 小", r"字号:?(?:大中小|小中大)|^字号:?$", False),
    ("缩小字体", r"缩小字体|放大字体", False),
    ("打印本页", r"打印本页|关闭窗口", False),
    ("我来说两句", r"我来说两句", False),
    ("已有N人参与", r"已有\d+人参与", False),
    ("手机看新闻", r"手机看新闻", False),
    ("快速登录", r"快速登录|登录超时", False),
    ("此前报道:", r"此前报道:", False),
    ("点击进入专题", r"点击进入专题", False),
    ("图片来源:", r"^[(\[【]?图片来源:", False),
    ("/视觉中国", r"/视觉中国", False),
    ("关键字:", r"^(?:关键字|关键词|文章关键词):", False),
    ("推荐进入…数据库", r"推荐进入.{0,30}数据库", False),
    ("Most Discussed", r"^Most Discussed$", False),
    ("Copyright ©", r"Copyright ?©", True),
    ("Disclaimer: Investing carries risk", r"Disclaimer: ?Investing carries risk", True),
    ("live quote (price, change, %)", r"\(\d+(?:\.\d+)?, -?\d+(?:\.\d+)?, -?\d+(?:\.\d+)?%\)", True),
)
_MARKER_RES = tuple((label, re.compile(regex, re.MULTILINE), generic) for label, regex, generic in MARKERS)

_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SPACE_BY_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]+|[ \t]+(?=[{_CJK}])")


def normalise(body: str) -> str:
    """NFKC, one space per run, none beside a CJK character; line breaks kept."""
    lines = (" ".join(line.split()) for line in unicodedata.normalize("NFKC", body).split("\n"))
    return "\n".join(_SPACE_BY_CJK.sub("", line) for line in lines)


@dataclass(frozen=True)
class Leak:
    """One boilerplate string found in a body: what matched, and the marker it matched."""

    matched: str
    pattern: str

    def as_dict(self) -> dict[str, str]:
        return {"matched": self.matched, "pattern": self.pattern}


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_leaks(body: str | None, *, chinese: bool = True) -> list[Leak]:
    """Every known boilerplate string in the body (one entry per distinct match); [] when clean."""
    if not body:
        return []
    text = normalise(body)
    found: dict[str, Leak] = {}
    for label, regex, generic in _MARKER_RES:
        if not (generic or chinese):
            continue
        for match in regex.finditer(text):
            leak = Leak(_short(match.group(0).strip() or label), label)
            found.setdefault(leak.matched, leak)
    return list(found.values())
