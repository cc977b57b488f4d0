"""The generic path's pictures: those of the article's container, never the page's furniture.

Hand-written pages; expectations written by hand.
"""

from __future__ import annotations

import pytest

from extractors import Page, extract

URL = "https://www.example-news.cn/finance/2024/05/20/a1.html"
PHOTO = "https://img.example-news.cn/2024/05/20/lpr_chart_1.jpg"
PARAGRAPH = "<p>　　5月20日，中国人民银行授权全国银行间同业拆借中心公布，1年期LPR为3.45%，5年期以上LPR为3.95%，均与上月持平。</p>"
ARTICLE = PARAGRAPH * 2 + '<p style="text-align:center"><img src="{photo}"></p><p style="text-align:center">图为贷款市场报价利率走势。新华社发</p>' + PARAGRAPH


def page(extra_in_article: str = "", sidebar: str = "") -> str:
    return (
        "<html><head><title>LPR维持不变_财经频道</title></head><body>"
        '<div class="nav"><a href="/">首页</a> <a href="/finance/">财经</a></div>'
        '<div class="main"><h1>LPR维持不变</h1><div class="info">2024-05-20 09:30 来源：新华社</div>'
        f'<div class="article-content">{ARTICLE.format(photo=PHOTO)}{extra_in_article}</div></div>'
        f'<div class="sidebar">{sidebar}</div></body></html>'
    )


def test_the_article_photo_comes_with_its_caption():
    article = extract(Page(URL, page()))
    assert article.extractor.startswith("generic")
    assert [(image.src, image.caption) for image in article.images] == [(PHOTO, "图为贷款市场报价利率走势。新华社发")]
    assert "图为贷款市场报价利率走势" not in article.body


def test_pictures_outside_the_article_container_are_not_the_articles():
    thumbnails = "".join(f'<div><img src="https://img.example-news.cn/thumb/{i}.jpg"><a href="/a{i}.html">热门文章{i}</a></div>' for i in range(3))
    article = extract(Page(URL, page(sidebar=thumbnails)))
    assert [image.src for image in article.images] == [PHOTO]


FURNITURE = {
    "spacer": '<img src="https://www.example-news.cn/images/space.gif">',
    "blank": '<img src="/img/blank.png">',
    "default placeholder": '<img src="/public/images/defaultpic.gif">',
    "null avatar": '<img src="/upload/pic42_null.gif">',
    "loading": '<img src="/static/loading.gif">',
    "icon": '<img src="/static/images/content/qyh-icon.png">',
    "logo": '<img src="/static/site_logo.png">',
    "share": '<img src="/img/2020wbc/imgs/share.png">',
    "qrcode": '<img src="/static/qrcode_app.jpg">',
    "ewm": '<img src="/static/ewm1.jpg">',
    "erweima": '<img src="/static/erweima.png">',
    "avatar": '<img src="/u/avatar_small.jpg">',
    "button": '<img src="/static/btn_more.png">',
    "arrow": '<img src="/static/arrow_right.png">',
    "class names furniture": '<img class="logo-img" src="/static/a.png">',
    "alt asks to follow": '<img src="/NMediaFile/2022/0801/MAIN2022.jpg" alt="关注我们">',
    "alt names a QR code": '<img src="/img/q1.jpg" alt="微信二维码">',
    "alt asks to scan": '<img src="/img/q2.jpg" alt="扫码阅读全文">',
    "alt names an account": '<img src="/img/q3.jpg" alt="人民网财经公众号">',
    "alt asks to download": '<img src="/img/q4.jpg" alt="下载客户端">',
    "alt sells": '<img src="/skin/img/a.jpg" alt="主题购买">',
    "alt is an ad": '<img src="/img/q5.jpg" alt="广告">',
    "hidden": '<img style="display:none;" src="//cdn.example-news.cn/2014-03-27/114048455.jpg">',
    "inside a hidden block": '<div style="display: none"><img src="/img/p.jpg"></div>',
    "invisible": '<img style="visibility: hidden" src="/img/p1.jpg">',
    "tiny by its attributes": '<img src="/img/p2.jpg" width="42" height="42">',
    "a banner by its attributes": '<img src="/img/p3.jpg" width="850" height="118">',
    "a banner by its file name": '<img src="/skin/ecms/img/850x118-1.jpg">',
}


@pytest.mark.parametrize("markup", FURNITURE.values(), ids=FURNITURE.keys())
def test_page_furniture_in_the_container_is_no_article_picture(markup):
    article = extract(Page(URL, page(extra_in_article=markup)))
    assert [image.src for image in article.images] == [PHOTO]


NOT_FURNITURE = {
    "a photo whose name says nothing": "https://img.example-news.cn/2020/02/19/1125597921_15821149778301n.jpg",
    "a wide photo that is no banner": "https://img.example-news.cn/2024/05/20/panorama_1200x400.jpg",
    "a headline photo": "https://img.example-news.cn/2024/05/20/headline_photo.jpg",
}


@pytest.mark.parametrize("src", NOT_FURNITURE.values(), ids=NOT_FURNITURE.keys())
def test_an_article_photo_is_kept(src):
    article = extract(Page(URL, page(extra_in_article=f'<p><img src="{src}"></p>' + PARAGRAPH)))
    assert [image.src for image in article.images] == [PHOTO, src]
