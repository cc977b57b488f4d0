"""The generic body step: link-list / layout-table pruning, the best container, the choice between candidates.

Small hand-written pages, one per failure class; expectations are written by hand.
"""

from __future__ import annotations

import trafilatura
from parsel import Selector

from extractors import Page, extract
from extractors.body_candidates import prefer_container
from extractors.container import best_container
from extractors.generic import extract_generic
from extractors.prune import prune_link_lists

ARTICLE = (
    "<p>国家统计局今天发布数据显示，十月份全国居民消费价格同比上涨百分之二点一，涨幅比上月回落零点三个百分点，其中城市上涨百分之二点零。</p>"
    "<p>分类别看，食品价格同比上涨百分之四点五，非食品价格上涨百分之一点五；服务价格上涨百分之一点二，消费品价格上涨百分之二点七。</p>"
    "<p>统计局城市司首席统计师表示，受季节性因素和国际油价波动影响，部分商品价格有所回落，整体物价保持在合理区间运行。</p>"
)


def _page(body: str) -> Selector:
    return Selector(root=trafilatura.load_html(f"<html><head><title>十月物价数据发布</title></head><body>{body}</body></html>"))


def _links(*titles: str) -> str:
    return "".join(f'<li><a href="/n/{i}.html">{t}</a></li>' for i, t in enumerate(titles))


NAV = "".join(f'<a href="/c/{i}">{name}</a> | ' for i, name in enumerate(["首页", "新闻", "财经", "体育", "娱乐", "科技", "汽车"]))
RELATED = _links("央行宣布下调存款准备金率", "前三季度国内生产总值同比增长", "十月份外贸进出口数据出炉", "多地出台楼市新政", "人民币汇率小幅走高")


def test_layout_table_nav_cell_goes_and_the_data_table_in_the_article_stays():
    data_table = "<table><tr><td>类别</td><td>涨幅</td></tr><tr><td>食品</td><td>4.5%</td></tr><tr><td>服务</td><td>1.2%</td></tr></table>"
    page = _page(
        f'<table><tr><td width="180">{NAV}</td>'
        f"<td><h1>十月物价数据发布</h1>{ARTICLE}{data_table}</td></tr></table>"
    )
    body = extract_generic(page, "http://example.invalid/a.html").body
    assert "居民消费价格同比上涨" in body
    assert "食品" in body and "4.5%" in body  # the article's data table
    for chrome in ("首页", "体育", "娱乐"):
        assert chrome not in body


def test_related_headline_list_after_the_body_goes():
    page = _page(f'<div class="content">{ARTICLE}</div><div class="box"><h3>相关新闻</h3><ul>{RELATED}</ul></div>')
    body = extract_generic(page, "http://example.invalid/a.html").body
    assert "整体物价保持在合理区间运行" in body
    assert "央行宣布下调存款准备金率" not in body
    assert "多地出台楼市新政" not in body


def test_navigation_bar_goes_but_a_sentence_with_links_stays():
    sentence = (
        '<p>记者了解到，<a href="/s/1">贵州茅台</a>和<a href="/s/2">五粮液</a>等白酒企业'
        "三季度营收保持增长，市场人士认为消费复苏的势头仍在延续，后续值得继续关注。</p>"
    )
    page = _page(f'<div class="nav">{NAV}</div><div class="article">{ARTICLE}{sentence}</div>')
    prune_link_lists(page.root)
    text = "".join(page.root.itertext())
    assert "体育" not in text and "汽车" not in text
    assert "贵州茅台" in text and "五粮液" in text  # two links inside prose: no list


def test_previous_next_links_block_goes():
    page = _page(
        f'<div class="article">{ARTICLE}</div>'
        '<div class="pn">【上一篇】<a href="/p.html">财政部发布新规要求银行如实核算利润 银行股逆市拉升最高涨停</a><br>【下一篇】<a href="/n.html">国庆小长假如何让闲钱不闲着 这份假期投资攻略请收好</a></div>'
    )
    prune_link_lists(page.root)
    text = "".join(page.root.itertext())
    assert "银行股逆市拉升" not in text and "假期投资攻略" not in text
    assert "统计局城市司首席统计师" in text


def test_best_container_keeps_the_article_and_leaves_out_link_dense_blocks_inside_it():
    page = _page(
        f'<div id="side"><ul>{RELATED}</ul></div>'
        f'<div class="article-body">{ARTICLE}<div class="tools"><a href="#">分享到微博</a> <a href="#">分享到微信</a> <a href="#">打印</a></div></div>'
        '<div class="footer"><p>Copyright 2012 示例网 版权所有，未经授权不得转载。</p></div>'
    )
    found = best_container(page.root)
    assert found is not None
    text = "\n".join(found.lines)
    assert "食品价格同比上涨百分之四点五" in text
    for chrome in ("央行宣布下调存款准备金率", "分享到微博", "版权所有"):
        assert chrome not in text


def test_trafilatura_chrome_loses_to_the_container():
    article = "第一段正文讲述了事件的起因和经过，内容完整。\n第二段正文给出了专家的分析和判断，内容完整。"
    with_chrome = article + "\n字号 大 中 小\n我来说两句 (0)\n手机看新闻\n凡注明来源为本网的作品版权均属本网"
    assert prefer_container(with_chrome, article)


def test_a_container_that_missed_paragraphs_loses_to_trafilatura():
    first = "第一段正文讲述了事件的起因和经过，记者在现场看到了大批救援人员正在紧张有序地开展工作。"
    missed = "第二段正文给出了专家的分析和判断，专家认为此次事件暴露出的安全隐患值得各地高度重视和排查。"
    assert not prefer_container(f"{first}\n{missed}", first)


def test_a_container_that_is_not_inside_trafilatura_text_loses():
    assert not prefer_container("第一段正文讲述了事件的起因和经过。\n第二段正文。", "完全不同的一段文字，出现在侧栏里，和正文无关。")
    assert prefer_container("", "只有容器找到了正文。")


# A Sina Finance article as a broker app's news feed carries it (issue 10): desk and English date under
# the headline, half-width punctuation, Sina's promos, then a "Most Discussed" top-10 of plain items.
BROKER_APP_ITEMS = "".join(
    f'<div class="hot-item" onclick="go({i})"><span class="rank">{i}</span>'
    f'<span class="t">热门新闻标题第{i}条：市场关注美联储议息会议结果</span></div>'
    for i in range(1, 11)
)
BROKER_APP_PARAGRAPHS = [
    "美联储周三宣布维持联邦基金利率目标区间不变,符合市场预期,这是美联储连续第四次会议按兵不动。",
    "声明称,最近的指标表明,经济活动继续稳步扩张,失业率仍处于低位,通胀依然有所上升。",
    "美联储主席鲍威尔在新闻发布会上表示,关税政策可能推高物价,美联储将保持耐心。",
]
BROKER_APP = (
    '<html><head><meta charset="utf-8"><title>美联储维持利率不变 暗示年内降息两次</title></head><body>'
    '<div class="news-detail"><h1>美联储维持利率不变 暗示年内降息两次</h1>'
    '<div class="meta"><span>市场资讯</span><span>Jun 21, 2025</span></div><div class="content">'
    + "".join(f"<p>{p}</p>" for p in BROKER_APP_PARAGRAPHS)
    + "<p>海量资讯、精准解读,尽在新浪财经APP</p><p>点个爱心,再走 吧</p></div></div>"
    + f'<div class="hot"><div class="hot-title">Most Discussed</div>{BROKER_APP_ITEMS}</div></body></html>'
)


def test_a_sina_article_in_a_broker_app_comes_out_clean_with_its_header():
    article = extract(Page("https://app.example-broker.com/news/detail?id=8812", BROKER_APP.encode()))
    assert article.body == "\n".join(BROKER_APP_PARAGRAPHS)
    assert article.title == "美联储维持利率不变 暗示年内降息两次"
    assert article.source == "市场资讯"
    assert article.published_at.isoformat() == "2025-06-21T00:00:00+08:00"
    assert article.published_precision == "day"
