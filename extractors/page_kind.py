"""Pages that hold no article text: video-only pages, picture galleries, navigation as body.

A page is no article (NotAnArticle, outcome not_article) when:
- video-only: its article container holds a player (<video>, <embed>, <object>, a player
  <iframe>, or an element whose class/id names a video player) and fewer than
  VIDEO_PAGE_MAX_PROSE characters of text besides it (a one-line blurb under a clip);
- a gallery: its container holds pictures (two or more, or one with a caption) and
  no text besides their captions (EXTRACTION_SPEC: captions are images[].caption,
  so the body is empty; a gallery with a written text is an article with images);
- chrome as body: what was extracted is mostly navigation or toolbar runs
  ("新浪首页 | 新浪导航 注册 登录 看点 新闻 财经", "缩小字体 放大字体 收藏 微博 微信 分享"),
  or a few lines without one sentence (a date and a platform label), with fewer
  than NAV_PAGE_MAX_PROSE characters of sentences.
"""

from __future__ import annotations

import re

from lxml import etree

VIDEO_PAGE_MAX_PROSE = 60  # characters (spaces aside) of text next to a player: a blurb, not a story
NAV_PAGE_MAX_PROSE = 80  # characters of sentence lines in a body of navigation runs

_WORD = re.compile(r"[a-z]+|[A-Z][a-z]*")
_PLAYER_WORDS = frozenset({"video", "videos", "player", "vjs", "videojs", "flashplayer", "mp4"})
_PLAYER_SRC = re.compile(r"video|player|v\.qq\.com|youku|bilibili|ivideo|\.mp4|\.m3u8|\.flv", re.I)
# a sentence: some run of text with clause or sentence punctuation
_SENTENCE = re.compile(r"[，。！？；,.!?;]")
_NAV_TOKEN = re.compile(r"[^\s|｜/·•>]+")
_NAV_TOKEN_MAX = 6  # characters of one link text in a navigation run ("新浪首页", "放大字体")


def has_player(element: etree._Element) -> bool:
    """A video player inside the element: media tags, a player iframe, or player class/id names."""
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag in ("video", "embed", "object"):
            return True
        if node.tag == "iframe" and _PLAYER_SRC.search(node.get("src") or node.get("data-src") or ""):
            return True
        names = f"{node.get('class') or ''} {node.get('id') or ''}"
        if names.strip() and any(word.lower() in _PLAYER_WORDS for word in _WORD.findall(names)):
            return True
    return False


def prose_length(body: str) -> int:
    """Characters of the body, white space aside."""
    return len("".join(body.split()))


def video_only(had_player: bool, body: str) -> bool:
    return had_player and prose_length(body) < VIDEO_PAGE_MAX_PROSE


def gallery_only(pictures: int, captioned: int, body: str) -> bool:
    return (pictures >= 2 or captioned >= 1) and not body.strip()


def _is_navigation_run(line: str) -> bool:
    """Three or more short link texts in a row, without a sentence among them."""
    tokens = _NAV_TOKEN.findall(line)
    return len(tokens) >= 3 and all(len(t) <= _NAV_TOKEN_MAX for t in tokens) and not _SENTENCE.search(line)


def navigation_body(body: str) -> bool:
    """The body is page chrome: navigation or toolbar runs, or a few lines without a sentence.

    Fewer than NAV_PAGE_MAX_PROSE characters of sentence lines, and either at least as
    much navigation as sentences, or no sentence at all ("2018年09月28日 13:46\n新浪看点").
    """
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    navigation = sum(prose_length(line) for line in lines if _is_navigation_run(line))
    prose = sum(prose_length(line) for line in lines if _SENTENCE.search(line))
    if prose >= NAV_PAGE_MAX_PROSE:
        return False
    return (navigation > 0 and navigation >= prose) or (prose == 0 and prose_length(body) < NAV_PAGE_MAX_PROSE)
