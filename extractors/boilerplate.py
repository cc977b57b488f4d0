"""Chinese news boilerplate, kept as data in one place.

Every extractor (site rules and the generic path) runs its body lines through
`is_boilerplate`. Patterns come from EXTRACTION_SPEC.md and SINA.md §5. A line
matching LINE_PATTERNS is dropped whole; TRAILER_PATTERNS cut the body from the
first matching line on (disclaimers and widgets that end the article).
"""

from __future__ import annotations

import re

# Lines that are never article text, wherever they stand.
LINE_PATTERNS: tuple[str, ...] = (
    r"炒股就看金麒麟",
    r"海量资讯、精准解读，?尽在新浪财经APP",
    r"下载新浪财经APP",
    r"安装新浪财经客户端",
    r"【下载地址】",
    r"新浪财经APP\s*缩小字体",
    r"扫一扫.{0,6}关注",
    r"扫描二维码关注",
    r"关注公众号",
    r"进入【新浪财经股吧】",
    r"点个爱心，?再走\s*吧",
    r"^\s*相关新闻\s*加载中",
    r"点击加载更多",
    r"当前浏览器不支持在线预览PDF文件",
    r"新浪财经意见反馈留言板",
    r"下一条快讯将在",
    r"炒股开户享福利",
    r"^\s*(APP专享|我要反馈|网友评论|分享到[:：]?)\s*$",
    r"^\s*(文章关键词|关键词)[:：]",
    r"^\s*(热门推荐|相关阅读|猜你喜欢|排行榜?|热门排行)\s*$",
    r"Copyright\s*©",
    r"违法和不良信息举报",
    r"^\s*\(?[（(]?完[）)]\s*$",
)

# From the first line matching one of these, the rest is not article.
TRAILER_PATTERNS: tuple[str, ...] = (
    r"^\s*免责声明[:：]",
    r"^\s*新浪声明[:：]",
    r"^\s*特别声明[:：]以上",
    r"^\s*Disclaimer: Investing carries risk",
)

EDITOR_LINE = re.compile(
    r"^\s*[（(【\[]?\s*(?:责任编辑|责编)\s*[:：]\s*(?P<name>[^）)】\]_\s]+?)(?:[_\s]*[A-Z]{1,4}\d{2,})?\s*[）)】\]]?\s*$"
)
ORIGINAL_TITLE_LINE = re.compile(
    r"^\s*[（(【\[]?\s*(?:本文)?(?:原标题\s*[:：]|原题\s*[:：]|原题为\s*[:：]?(?=\s*《))\s*《?(?P<title>.+?)》?\s*[）)】\]]?\s*$"
)

_LINE_RE = re.compile("|".join(LINE_PATTERNS))
_TRAILER_RE = re.compile("|".join(TRAILER_PATTERNS))


def is_boilerplate(line: str) -> bool:
    return bool(_LINE_RE.search(line))


def starts_trailer(line: str) -> bool:
    return bool(_TRAILER_RE.search(line))

# Strings that must never be in a clean body (EXTRACTION_SPEC.md, "The body drops"),
# used to count leaks in tests and benchmarks. (label, regex, applies to every language)
LEAK_MARKERS: tuple[tuple[str, str, bool], ...] = (
    ("责任编辑", r"责任编辑", False),
    ("免责声明", r"免责声明", False),
    ("新浪声明", r"新浪声明", False),
    ("炒股就看金麒麟", r"炒股就看金麒麟", False),
    ("海量资讯、精准解读", r"海量资讯、精准解读", False),
    ("下载新浪财经APP", r"下载新浪财经APP", False),
    ("安装新浪财经客户端", r"安装新浪财经客户端", False),
    ("【下载地址】", r"【下载地址】", False),
    ("扫一扫", r"扫一扫", False),
    ("关注公众号", r"关注公众号", False),
    ("新浪财经股吧", r"新浪财经股吧", False),
    ("点个爱心", r"点个爱心", False),
    ("违法和不良信息举报", r"违法和不良信息举报", False),
    ("Copyright ©", r"Copyright\s*©", True),
    ("Disclaimer: Investing carries risk", r"Disclaimer: Investing carries risk", True),
    ("live quote (price, change, %)", r"\(\d+(?:\.\d+)?, -?\d+(?:\.\d+)?, -?\d+(?:\.\d+)?%\)", True),
)
_LEAK_RES = tuple((label, re.compile(regex), every_language) for label, regex, every_language in LEAK_MARKERS)


def find_leaks(body: str | None, *, chinese: bool = True) -> list[str]:
    """The known boilerplate in a body: marker labels and offending lines; [] when clean."""
    found: list[str] = []
    for label, regex, every_language in _LEAK_RES:
        if (every_language or chinese) and body and regex.search(body):
            found.append(label)
    if chinese and body:
        for line in body.split("\n"):
            if is_boilerplate(line) or starts_trailer(line) or EDITOR_LINE.search(line) or ORIGINAL_TITLE_LINE.search(line):
                found.append(line.strip())
    return found
