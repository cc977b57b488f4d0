import pytest

from extractors import rule_named

SINA = rule_named("sina")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://finance.sina.com.cn/stock/usstock/c/2019-09-09/doc-iicezzrq4681677.shtml", "article"),
        ("http://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml", "article"),
        ("https://news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml", "article"),
        ("https://finance.sina.com.cn/zl/china/2019-09-09/zl-iicezzrq4680001.shtml", "article"),
        ("https://finance.sina.cn/2019-09-09/detail-iicezzrq4681677.d.html?vt=4&cid=76524", "article"),
        ("https://finance.sina.cn/usstock/mggd/2019-09-09/detail-iicezzrq4681677.d.html", "article"),
        ("https://k.sina.com.cn/article_6192937794_17120bb4202000ltmd.html?from=finance", "article"),
        ("http://k.sina.cn/article_3057540037_b63e5bc502000bg5u.html", "article"),
        ("http://t.cj.sina.com.cn/articles/view/6479293414/182322be600100i6z0", "article"),
        ("https://video.sina.com.cn/p/finance/2019-09-09/detail-iicezzrq4683000.d.html", "video"),
        ("http://slide.finance.sina.com.cn/cj/slide_80_13_12345.html", "slide"),
        ("https://finance.sina.com.cn/7x24/2019-09-09/doc-iicezzrq4689999.shtml", "live"),
        ("https://finance.sina.cn/7x24/2019-09-09/detail-iicezzrq4689999.d.html", "live"),
        ("https://finance.sina.com.cn/", "other"),
        ("https://finance.sina.com.cn/roll/index.d.html?cid=56592", "other"),
        ("http://vip.stock.finance.sina.com.cn/corp/go.php/vCB_AllNewsStock/symbol/sh600000.phtml", "other"),
        ("https://finance.sina.com.cn.evil.example/doc-iicezzrq4681677.shtml", "other"),
        ("https://example.com/doc-iicezzrq4681677.shtml", "other"),
    ],
)
def test_classify_url(url, kind):
    assert SINA.classify_url(url) == kind
