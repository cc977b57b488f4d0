"""Site rules on hand-written pages, one failure class per test.

The pages copy the markup of the recorded Sina (k.sina 看点 template, news
desktop template) and NetEase (post_content_main) pages in tests/fixtures; the
article text is made up. Expectations are written by hand.
"""

from __future__ import annotations

import pytest
from lxml import html

from extractors import NotAnArticle, Page, extract
from extractors.captions import drop_captions, find_caption
from extractors.page_kind import navigation_body

K_SINA_URL = "https://k.sina.com.cn/article_3057540037_b63e5bc502000bg5u.html"
SINA_NEWS_URL = "https://news.sina.com.cn/c/2019-11-25/doc-iihnzahi3275702.shtml"
NETEASE_URL = "https://news.163.com/20/0704/08/FGGV4B2K0001899O.html"

PICTURE = '<img src="//n.sinaimg.cn/news/crawl/89/w550h339/20191125/2b6c-iittafs2905468.jpg">'
P1 = "<p>　　北京时间9月28日消息，天安门城楼上的毛主席画像每年国庆前都会更换一次，今年的更换工作在凌晨完成。</p>"
P2 = "<p>　　据现场工作人员介绍，新画像高6.4米、宽5米，由专人绘制，整个更换过程持续了大约一个小时。</p>"
PARAGRAPHS = P1 + P2
FIRST = "北京时间9月28日消息，天安门城楼上的毛主席画像每年国庆前都会更换一次，今年的更换工作在凌晨完成。"
SECOND = "据现场工作人员介绍，新画像高6.4米、宽5米，由专人绘制，整个更换过程持续了大约一个小时。"
CAPTION = "工作人员将取下悬挂了一年的毛主席旧画像。"

# The k.sina 看点 desktop template (tests/fixtures/sina_mobile/k_sina_cn_2018_…), its chrome kept.
K_SINA = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>天安门城楼更换毛主席画像|天安门_新浪网</title>
<meta name="mediaid" content="海外网"></head><body>
<div class="top-wrap"><div class="top-nav clearfix"><div class="top-n-right">
<a href="http://ent.sina.com.cn/">新浪娱乐</a><span>|</span><a href="http://www.sina.com.cn/">新浪首页</a>
<span>|</span><a href="http://news.sina.com.cn/guide/">新浪导航</a></div>
<div id="SI_User"><div class="ac-rgst"><a href="https://login.sina.com.cn/signup/signup">注册</a></div>
<div class="ac-login"><a href="#"><span class="log-links">登录</span></a></div></div></div></div>
<div class="nav-wrap"><div class="nav clearfix"><ul>
<li><a href="http://k.sina.com.cn">看点</a></li><li><a href="http://news.sina.com.cn/">新闻</a></li>
<li><a href="http://finance.sina.com.cn/">财经</a></li><li><a href="http://sports.sina.com.cn/">体育</a></li>
<li><a href="http://ent.sina.com.cn/">娱乐</a></li><li><a href="http://tech.sina.com.cn/">科技</a></li></ul></div></div>
<div class="main-content w1240"><h1 class="main-title">天安门城楼更换毛主席画像</h1>
<div class="top-bar-wrap"><div class="date-source"><span class="date">2018年09月28日 13:46</span>
<a href="http://k.sina.com.cn" class="source ent-source">新浪看点</a></div>
<div class="page-tools"><span><a href="javascript:;">缩小字体</a></span><span><a href="javascript:;">放大字体</a></span>
<span><a href="javascript:;">收藏</a></span><span><a href="javascript:;">微博</a></span>
<span><a href="javascript:;">微信</a></span><span><a href="javascript:;">分享</a></span></div></div>
<div class="article-content clearfix"><div class="article-content-left">
<div class="article" id="artibody">{article}</div>
<div class="article-bottom clearfix"><a href="http://news.sina.com.cn/feedback/post.html">我要反馈</a></div>
</div></div></div></body></html>"""


def k_sina(article: str) -> Page:
    return Page(K_SINA_URL, K_SINA.replace("{article}", article))


def _extract(article: str):
    return extract(k_sina(article), strict=True)


# --- captions typed as paragraphs under a picture -------------------------------------------------

CAPTIONED = {
    "centred paragraph (style)": f'<p>{PICTURE}</p><p style="text-align: center;">{CAPTION}</p>',
    "centred paragraph (align)": f'<p align="center">{PICTURE}</p><p align="center">{CAPTION}</p>',
    "centre class": f'<p class="f_center">{PICTURE}</p><p class="f_center">{CAPTION}</p>',
    "caption-like class": f'<p>{PICTURE}</p><p class="pic_txt">{CAPTION}</p>',
    "<center> block": f"<center>{PICTURE}</center><center>{CAPTION}</center>",
    "same block after <br>": f'<p style="text-align:center">{PICTURE}<br>{CAPTION}</p>',
    "small grey font": f'<p>{PICTURE}</p><p><font size="2" color="#666666">{CAPTION}</font></p>',
    "grey span": f'<p>{PICTURE}</p><p><span style="color: rgb(128, 128, 128);">{CAPTION}</span></p>',
    "marker ▲": f"<p>{PICTURE}</p><p>▲{CAPTION}</p>",  # the marker stays in the caption, as shown
    "figcaption": f"<figure>{PICTURE}<figcaption>{CAPTION}</figcaption></figure>",
}


@pytest.mark.parametrize("markup", CAPTIONED.values(), ids=CAPTIONED.keys())
def test_a_caption_typed_as_a_paragraph_goes_to_the_image(markup):
    article = _extract(P1 + markup + P2)
    assert [image.caption for image in article.images] == ["▲" + CAPTION if "▲" in markup else CAPTION]
    assert article.body == f"{FIRST}\n{SECOND}"
    assert "工作人员将取下" not in article.body


def test_a_plain_caption_with_a_credit_word_goes_to_the_image():
    article = _extract(f"<p>{PICTURE}</p><p>天安门城楼。新华社记者 李贺 摄</p>{PARAGRAPHS}")
    assert article.images[0].caption == "天安门城楼。新华社记者 李贺 摄"
    assert article.body == f"{FIRST}\n{SECOND}"


KEPT = {
    # the near-misses: short article lines under a picture, without anything saying "caption"
    "plain short paragraph": f"<p>{PICTURE}</p><p>其实就是中国人最习以为常的公园。</p>",
    # every paragraph centred: centring says nothing
    "all paragraphs centred": (
        f'<p style="text-align:center">{PICTURE}</p><p style="text-align:center">其实就是中国人最习以为常的公园。</p>'
        '<p style="text-align:center">这里的空气和别处一样好。</p>'
    ),
    "bold centred sub-heading": f'<p>{PICTURE}</p><p style="text-align:center"><strong>其实就是中国人最习以为常的公园</strong></p>',
    "line leading into the next": f'<p>{PICTURE}</p><p style="text-align:center">其实就是中国人最习以为常的公园：</p>',
    "long centred paragraph": (
        f'<p>{PICTURE}</p><p style="text-align:center">其实就是中国人最习以为常的公园，'
        "这位加拿大大叔在广西南宁的南湖公园拍了一期视频，因为他认为中国的公园真的很神奇，人们在那里跳舞唱歌。</p>"
    ),
    "picture inside a sentence": f'<p>据介绍{PICTURE}</p><p style="text-align:center">其实就是中国人最习以为常的公园。</p>',
}


@pytest.mark.parametrize("markup", KEPT.values(), ids=KEPT.keys())
def test_a_short_article_paragraph_after_a_picture_stays(markup):
    article = _extract(markup + PARAGRAPHS)
    assert "其实就是中国人最习以为常的公园" in article.body
    assert all(image.caption is None for image in article.images)


def test_drop_captions_clears_a_tree_for_the_generic_path():
    root = html.fromstring(
        f"<html><body><div>{PARAGRAPHS}<p>{PICTURE}</p><p align=center>{CAPTION}</p>"
        f"<p>{PICTURE}</p><p>其实就是中国人最习以为常的公园。</p></div></body></html>"
    )
    images = drop_captions(root, "https://news.sina.com.cn/").values()
    assert [(i.src, i.caption) for i in images] == [
        ("https://n.sinaimg.cn/news/crawl/89/w550h339/20191125/2b6c-iittafs2905468.jpg", CAPTION),
        ("https://n.sinaimg.cn/news/crawl/89/w550h339/20191125/2b6c-iittafs2905468.jpg", None),
    ]
    text = root.text_content()
    assert CAPTION not in text and "其实就是中国人最习以为常的公园。" in text and FIRST in text.replace("\u3000", "")


def test_a_caption_in_the_same_block_keeps_the_text_around_it():
    root = html.fromstring(
        f'<div><p style="text-align:center"><a href="x">{PICTURE}</a><br>{CAPTION}</p>{PARAGRAPHS}</div>'
    )
    img = root.find(".//img")
    caption = find_caption(img)
    assert caption is not None and caption.text == CAPTION
    caption.remove()
    assert root.find(".//img") is not None and CAPTION not in root.text_content() and SECOND in root.text_content()


# --- pages without article text -------------------------------------------------------------------

VIDEO_PLAYER = (  # the news template's video block (tests/fixtures/sina/news_2019_c_iihnzahi3275702_dom)
    '<div class="video-2017" id="videoList0"><div class="play-video-area" id="videoList0_playArea">'
    '<a href="javascript:;"><img src="//n.sinaimg.cn/sinacn20191125ac/600/w1920h1080/20191125/1947-iittafs2944060.jpg">'
    '<em class="i-common i-play"></em></a></div>'
    '<div class="video-info">视频-天安门城楼更换毛主席画像</div></div>'
)


def test_a_video_only_k_sina_page_is_not_an_article():
    with pytest.raises(NotAnArticle, match="video-only page"):
        _extract(VIDEO_PLAYER)
    with pytest.raises(NotAnArticle, match="video-only page"):  # the platform's one-line blurb is no article
        _extract(VIDEO_PLAYER + "<p>　　视频：天安门城楼更换毛主席画像。</p>")
    with pytest.raises(NotAnArticle, match="video-only page"):  # a bare <video> tag
        _extract('<p><video src="http://edge.ivideo.sina.com.cn/3037.mp4" controls></video></p>')


def test_a_video_with_its_story_is_an_article():
    article = _extract(VIDEO_PLAYER + PARAGRAPHS)
    assert article.body == f"{FIRST}\n{SECOND}"


def test_a_gallery_of_captioned_pictures_is_not_an_article():
    gallery = "".join(f'<p>{PICTURE}</p><p style="text-align:center">第{n}张：{CAPTION}</p>' for n in "一二三")
    with pytest.raises(NotAnArticle, match="picture gallery"):
        _extract(gallery)
    article = _extract(gallery + PARAGRAPHS)  # with a written text it is an article with pictures
    assert len(article.images) == 3 and article.body == f"{FIRST}\n{SECOND}"


def test_site_navigation_is_never_a_body():
    # a page of the template without its article container: the rule finds nothing,
    # the generic path sees only the chrome
    page = Page(K_SINA_URL, K_SINA.replace('<div class="article" id="artibody">{article}</div>', ""))
    with pytest.raises(NotAnArticle, match="navigation only"):
        extract(page, strict=True)


def test_navigation_runs_against_short_articles():
    assert navigation_body("新浪首页 | 新浪导航 注册 登录 看点 新闻 财经\n缩小字体 放大字体 收藏 微博 微信 分享")
    assert navigation_body("天安门城楼更换毛主席画像\n缩小字体 放大字体 收藏 微博 微信 分享")
    assert navigation_body("新浪首页 | 新浪导航 注册 登录 看点 新闻 财经\n视频：天安门城楼更换画像。")  # a blurb among chrome
    assert navigation_body("2018年09月28日 13:46\n新浪看点")  # a header without a sentence
    assert not navigation_body("天安门城楼更换毛主席画像。")  # one sentence is text (a brief)
    # a short news item with a leaked toolbar line is still an article
    assert not navigation_body(f"{FIRST}\n{SECOND}\n缩小字体 放大字体 收藏 微博 微信 分享")
    # a list of names in an article is no navigation
    assert not navigation_body("出席会议的有：\n张三 李四 王五 赵六\n会议认为，应进一步加强合作，推动经济高质量发展，并就多项议题达成共识。")


# --- every body container -------------------------------------------------------------------------


NETEASE = """<html><head><meta charset="utf-8"><title>两个正文容器_网易新闻</title></head><body>
<div class="post_content_main"><h1>两个正文容器的网易页面</h1>
<div class="post_time_source">2020-07-04 08:37:12　来源:
<a id="ne_article_source" href="http://www.xinhuanet.com/">新华网</a></div>
<div class="post_body"><div class="post_text" id="endText">
<p>　　第一部分：美国至少有19个州已经下令要求民众在公共场合佩戴口罩，确诊病例继续上升。</p>
</div>
<div class="gg200x300"><iframe src="https://g.163.com/ad"></iframe></div>
<div class="post_text" id="endText">
<p>　　第二部分：佛罗里达州坦帕市市长在7月3日接受电视采访时表示，将继续推行防疫措施。</p>
<div class="ep-source cDGray"><span class="left">本文来源：新华网</span> <span class="ep-editor">责任编辑：王晓易_NE0011</span></div>
</div></div></div></body></html>"""


def test_a_netease_page_with_two_text_containers_reads_both():
    article = extract(Page(NETEASE_URL, NETEASE), strict=True)
    assert article.body == (
        "第一部分：美国至少有19个州已经下令要求民众在公共场合佩戴口罩，确诊病例继续上升。\n"
        "第二部分：佛罗里达州坦帕市市长在7月3日接受电视采访时表示，将继续推行防疫措施。"
    )
    assert article.extractor.startswith("netease/v2019")


SINA_NEWS = """<html><head><meta charset="utf-8"><title>两段正文|测试_新浪新闻</title></head><body>
<div class="main-content"><h1 class="main-title">两段正文的新浪页面</h1>
<div class="date-source"><span class="date">2019年11月25日 09:27</span>
<a class="source" href="http://www.haiwainet.cn">海外网</a></div>
<div class="article" id="article"><p>　　{first}</p>
<div class="article" id="article"><p>　　{nested}</p></div></div>
<div class="ad"><ins class="sinaads"></ins></div>
<div class="article" id="article"><p>　　{second}</p><p class="show_author">责任编辑：张迪</p></div>
</div></body></html>"""


def test_a_sina_page_with_two_text_containers_reads_both_once():
    nested = "嵌在第一段容器里的段落只读一次。"
    page = SINA_NEWS.format(first=FIRST, nested=nested, second=SECOND)
    article = extract(Page(SINA_NEWS_URL, page), strict=True)
    assert article.body == f"{FIRST}\n{nested}\n{SECOND}"
    assert article.editor == "张迪"


def test_other_site_rules_take_captions_by_the_shared_rule_too():
    page = NETEASE.replace(
        "<p>　　第二部分：",
        f'<p class="f_center">{PICTURE}</p><p style="text-align:center">{CAPTION}</p><p>　　第二部分：',
        1,
    )
    article = extract(Page(NETEASE_URL, page), strict=True)
    assert [image.caption for image in article.images] == [CAPTION]
    assert CAPTION not in article.body and "第二部分：" in article.body


# A credit typed as loose text beside a picture, in no element of its own: three markups of one class.
LOOSE_CREDIT = "江北区公安分局供图 华龙网发"
LOOSE_CAPTIONS = {
    "after the picture's paragraph": f'<p class="f_center">{PICTURE}</p>{LOOSE_CREDIT}',
    "right after the picture": f"{PICTURE}{LOOSE_CREDIT}",
    "after the picture and a line break": f"{PICTURE}<br>{LOOSE_CREDIT}<br>",
}


@pytest.mark.parametrize("markup", LOOSE_CAPTIONS.values(), ids=LOOSE_CAPTIONS.keys())
def test_a_loose_credit_line_beside_a_picture_goes_to_the_image(markup):
    page = NETEASE.replace("<p>　　第二部分：", markup + "<p>　　第二部分：", 1)
    article = extract(Page(NETEASE_URL, page), strict=True)
    assert [image.caption for image in article.images] == [LOOSE_CREDIT]
    assert "供图" not in article.body and "第二部分：" in article.body


LOOSE_KEPT = {
    # loose text without a credit word: nothing vouches for it being a caption
    "no credit word": f'<p class="f_center">{PICTURE}</p>民警随后走访了辖区内的多家培训机构',
    # the line goes on into a link: a sentence, not a caption
    "runs into a link": f'{PICTURE}记者摄于<a href="https://news.163.com/">现场</a>的画面',
}


@pytest.mark.parametrize("markup", LOOSE_KEPT.values(), ids=LOOSE_KEPT.keys())
def test_loose_text_beside_a_picture_without_a_credit_stays(markup):
    page = NETEASE.replace("<p>　　第二部分：", markup + "<p>　　第二部分：", 1)
    article = extract(Page(NETEASE_URL, page), strict=True)
    assert all(image.caption is None for image in article.images)
    assert ("民警随后走访" in article.body) or ("的画面" in article.body)


HEADLINES = (
    "佛罗里达州单日新增确诊病例再创新高",
    "美国多地暂停重新开放计划",
    "纽约州州长呼吁全国统一佩戴口罩",
)


@pytest.mark.parametrize("heading", ["延伸 · 推荐", "相关推荐：", "【往期回顾】", "猜你喜欢"])
def test_a_related_box_inside_the_container_is_dropped_whatever_its_heading(heading):
    box = f"<p>{heading}</p>" + "".join(f'<p><a href="https://news.163.com/{i}.html">{t}</a></p>' for i, t in enumerate(HEADLINES))
    page = NETEASE.replace('<div class="ep-source', box + '<div class="ep-source', 1)
    article = extract(Page(NETEASE_URL, page), strict=True)
    assert article.body.endswith("将继续推行防疫措施。")
    assert not any(headline in article.body for headline in HEADLINES)


def test_a_headline_list_without_a_heading_inside_the_container_is_pruned():
    titles = HEADLINES + ("德州宣布暂停部分经济重启措施", "加州关闭酒吧和室内餐厅")
    box = "<ul>" + "".join(f'<li><a href="https://news.163.com/{i}.html">{t}</a></li>' for i, t in enumerate(titles)) + "</ul>"
    page = NETEASE.replace('<div class="ep-source', box + '<div class="ep-source', 1)
    article = extract(Page(NETEASE_URL, page), strict=True)
    assert not any(title in article.body for title in titles)
    assert "第二部分：佛罗里达州坦帕市市长" in article.body


def test_a_sentence_with_two_links_inside_the_container_stays():
    sentence = (
        '<p>　　此前，<a href="https://news.163.com/a.html">世卫组织</a>曾多次提醒各国，'
        '<a href="https://news.163.com/b.html">疫情</a>远未结束，各国不应过早放松防控措施。</p>'
    )
    page = NETEASE.replace('<div class="ep-source', sentence + '<div class="ep-source', 1)
    article = extract(Page(NETEASE_URL, page), strict=True)
    assert "此前，世卫组织曾多次提醒各国，疫情远未结束，各国不应过早放松防控措施。" in article.body


def test_a_compilation_label_gives_way_to_the_storys_own_source_line():
    page = SINA_NEWS.format(first=FIRST, nested="来源：财经杂志", second=SECOND).replace(
        '<a class="source" href="http://www.haiwainet.cn">海外网</a>', '<span class="source">新浪新闻综合</span>'
    )
    article = extract(Page(SINA_NEWS_URL, page), strict=True)
    assert article.source == "财经杂志"
    assert "来源" not in article.body


def test_a_compilation_label_stays_the_source_when_the_story_names_none():
    page = SINA_NEWS.format(first=FIRST, nested="嵌在第一段容器里的段落。", second=SECOND).replace(
        '<a class="source" href="http://www.haiwainet.cn">海外网</a>', '<span class="source">新浪财经-自媒体综合</span>'
    )
    assert extract(Page(SINA_NEWS_URL, page), strict=True).source == "新浪财经-自媒体综合"
