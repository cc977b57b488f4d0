"""Boilerplate families: every example dropped in any punctuation width and spacing,
every near-miss kept, every pattern needed, and promos gone from whole pages."""

from __future__ import annotations

import dataclasses

import pytest

from extractors import Page, extract
from extractors.boilerplate import Matcher, all_families
from extractors.clean import clean_lines

FAMILIES = all_families()
MATCHER = Matcher(FAMILIES)

# full-width ↔ half-width punctuation, both ways
_TO_HALF = str.maketrans("，：（）！？；［］｜", ",:()!?;[]|")
_TO_FULL = str.maketrans(",:()!?;[]|", "，：（）！？；［］｜")


def _spaced(line: str) -> str:
    """A space after every CJK character and every punctuation mark, as loose pages type them."""
    return "".join(ch + " " if ord(ch) > 0x2E80 or ch in ",:()" else ch for ch in line).strip()


VARIANTS = {
    "as-is": lambda s: s,
    "half-width": lambda s: s.translate(_TO_HALF),
    "full-width": lambda s: s.translate(_TO_FULL),
    "spaced": lambda s: _spaced(s.translate(_TO_HALF)),
    "indented": lambda s: "\u3000\u3000" + s + "\u00a0",
}


def _cases(attr: str):
    return [pytest.param(f, line, id=f"{f.name}:{line[:20]}") for f in FAMILIES for line in getattr(f, attr)]


def test_every_family_has_examples_and_near_misses():
    for family in FAMILIES:
        assert family.patterns and family.examples and family.near_misses, family.name
        assert family.kind in ("drop", "cut", "field"), family.name
        assert (family.kind == "field") == (family.field is not None), family.name


@pytest.mark.parametrize(("family", "line"), _cases("examples"))
@pytest.mark.parametrize("variant", VARIANTS)
def test_examples_are_caught_in_every_width_and_spacing(family, line, variant):
    hit = MATCHER.match(VARIANTS[variant](line))
    assert hit is not None, f"{variant}: {VARIANTS[variant](line)!r} leaks"
    assert hit.family.kind == family.kind


@pytest.mark.parametrize(("family", "line"), _cases("near_misses"))
@pytest.mark.parametrize("variant", ["as-is", "half-width", "full-width"])
def test_near_misses_are_kept(family, line, variant):
    assert MATCHER.match(VARIANTS[variant](line)) is None


@pytest.mark.parametrize(
    ("family", "index"),
    [pytest.param(f, i, id=f"{f.name}[{i}]") for f in FAMILIES for i in range(len(f.patterns))],
)
def test_every_pattern_is_needed(family, index):
    """Without the pattern, some example of its family leaks (so no pattern is dead or untested)."""
    weaker = dataclasses.replace(family, patterns=family.patterns[:index] + family.patterns[index + 1 :])
    matcher = Matcher(tuple(weaker if f is family else f for f in FAMILIES))
    leaking = [line for line in family.examples if matcher.match(line) is None]
    assert leaking, f"{family.name}: pattern {family.patterns[index]!r} catches no example alone"


# Hand-written values: the editor moves to its field, without editor codes.
EDITORS = {
    "责任编辑：余鹏飞": "余鹏飞",
    "[ 责编：杨煜 ]": "杨煜",
    "责任编辑：支全明 SF099": "支全明",
    "本文编辑：姚立伟_NT6056": "姚立伟",
    "编辑：倪仕轩 责任编辑：林涛": "林涛",
    "（编辑：严玉洁 王辉）": "严玉洁 王辉",
    "策划：杨顺霖 编辑：几乎不流浪": "几乎不流浪",
    "责任编辑：NF050": "NF050",
}


@pytest.mark.parametrize(("line", "name"), EDITORS.items())
def test_editor_lines_fill_the_editor_field(line, name):
    cleaned = clean_lines(["正文第一段。", line, "正文第二段。"])
    assert cleaned.editor == name
    assert cleaned.body == "正文第一段。\n正文第二段。"


def test_editor_in_charge_wins_over_a_plain_editor_line():
    cleaned = clean_lines(["正文。", "编辑：张三", "责任编辑：李四"])
    assert cleaned.editor == "李四"


def test_kept_lines_are_not_normalised():
    line = "他说：“（这）是ＡＢＣ公司，１２３亿元。”"
    assert clean_lines([line]).body == line


def test_a_disclaimer_cuts_the_rest_but_not_an_article_after_it():
    tail = clean_lines(["正文。", "【免责声明】本文仅代表作者本人观点，与和讯网无关。", "热门文章一", "热门文章二"])
    assert tail.body == "正文。"
    head = clean_lines(["声明：本文仅代表作者观点。", "正文第一段。", "正文第二段。"])
    assert head.body == "正文第一段。\n正文第二段。"


SYNDICATED_SINA = """<html><head><meta charset="utf-8"><title>美联储维持利率不变 - 某某证券资讯</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/news">资讯</a></div>
<article><h1>美联储维持利率不变</h1><p class="meta">市场资讯 2025-06-21 08:30</p>
<p>新浪财经讯 6月21日消息,美联储周三宣布维持联邦基金利率目标区间不变,符合市场普遍预期。</p>
<p>声明称,最近的指标表明美国经济活动继续以稳健的步伐扩张,失业率保持在低位,通胀仍然处于较高水平。</p>
<p>分析人士认为,美联储年内仍有降息空间,但时点取决于未来几个月的通胀数据走势。</p>
<p>市场方面,美股三大指数收盘涨跌不一,美元指数小幅走高,十年期美债收益率下行两个基点。</p>
<p>海量资讯、精准解读,尽在新浪财经APP</p>
<p>点个爱心,再走 吧</p>
<p>炒股就看金麒麟分析师研报,权威,专业,及时,全面,助您挖掘潜力主题机会!</p>
<p>进入【新浪财经股吧】讨论</p>
</article>
<div class="rank"><h3>Most Discussed</h3><ol><li><a href="/a">一条热门新闻</a></li></ol></div>
</body></html>"""

HEXUN_LIKE = """<html><head><meta charset="utf-8"><title>券商板块午后拉升-和讯网</title></head>
<body><div class="login">登录超时，稍后再试 免注册 快速登录 消息 通知 公告0</div>
<div class="art"><h1>券商板块午后拉升</h1><p>2024年05月13日 14:02 来源：和讯网</p>
<p>字号 大 中 小</p>
<p>13日午后，券商板块快速拉升，多只个股涨幅超过5%，板块成交额较前一交易日明显放大。</p>
<p>业内人士表示，近期资本市场改革政策密集落地，券商作为直接受益方，估值修复行情有望延续。</p>
<p>数据显示，年初以来券商板块累计涨幅落后于大盘，机构持仓比例处于近五年低位。</p>
<p>（编辑：王五）</p>
<p>【免责声明】本文仅代表作者本人观点，与和讯网无关。和讯网站对文中陈述、观点判断保持中立。</p>
<p>我来说两句 (0)</p>
</div></body></html>"""


@pytest.mark.parametrize(
    ("url", "html", "gone", "kept"),
    [
        (
            "https://news.example-broker.com/article/20250621/123.html",
            SYNDICATED_SINA,
            ["海量资讯", "新浪财经APP", "点个爱心", "再走", "金麒麟", "新浪财经股吧", "Most Discussed"],
            ["美联储周三宣布维持联邦基金利率目标区间不变", "声明称,最近的指标表明"],
        ),
        (
            "https://stock.example-hexun.com/2024-05-13/213456789.html",
            HEXUN_LIKE,
            ["登录超时", "快速登录", "免责声明", "与和讯网无关", "字号", "我来说两句", "编辑：王五"],
            ["券商板块快速拉升", "估值修复行情有望延续"],
        ),
    ],
    ids=["syndicated-sina", "hexun-like"],
)
def test_generic_path_drops_promos_and_widgets(url, html, gone, kept):
    article = extract(Page(url, html.encode("utf-8")))
    assert article.extractor.startswith("generic")
    for text in gone:
        assert text not in article.body, text
    for text in kept:
        assert text in article.body, text
