from extractors.decoding import decode_html
from tests.helpers import fixtures


def test_gbk_bytes_under_a_utf8_meta_are_read_as_gb18030():
    [trap] = [f for f in fixtures("sina_mobile") if "gbk_mismatch" in f.name]
    assert b'charset="utf-8"' in trap.body.lower() or b"charset=utf-8" in trap.body.lower()
    decoded = decode_html(trap.body)
    assert decoded.encoding == "gb18030"
    assert not decoded.lossy
    assert "新浪" in decoded.text and "\ufffd" not in decoded.text


def test_gb2312_label_is_read_as_gb18030():
    # a character outside GB2312 (镕) under a gb2312 label, as old Sina pages have
    html = '<html><head><meta charset="gb2312"></head><body>朱镕基</body></html>'.encode("gb18030")
    decoded = decode_html(html)
    assert decoded.encoding == "gb18030"
    assert "朱镕基" in decoded.text


def test_http_header_charset_wins_over_detection():
    decoded = decode_html("<p>价格</p>".encode("gbk"), "text/html; charset=GBK")
    assert decoded.text == "<p>价格</p>" and decoded.encoding == "gb18030"


def test_undecodable_bytes_are_flagged_not_hidden():
    decoded = decode_html(b'<meta charset="utf-8"><p>\xff\xfe\xfa\xfb\x80</p>' + b"\x81" * 3)
    assert decoded.lossy


def test_old_sina_pages_decode_cleanly():
    for fixture in fixtures("sina"):
        if fixture.meta["declared_charset"] == "gb2312":
            decoded = decode_html(fixture.body)
            assert decoded.encoding == "gb18030", fixture.name
            assert not decoded.lossy, fixture.name


def test_bom_wins_over_a_wrong_declaration():
    html = '<html><head><meta charset="gb2312"></head><body>新浪财经</body></html>'
    decoded = decode_html(b"\xef\xbb\xbf" + html.encode("utf-8"))
    assert decoded.encoding == "utf-8" and "新浪财经" in decoded.text


def test_undeclared_gbk_is_detected():
    from tests.helpers import fixtures

    [page] = [f for f in fixtures("163") if "b4c2eccd" in f.name]  # no charset anywhere, GBK bytes
    assert b"charset" not in page.body.lower()
    decoded = decode_html(page.body)
    assert decoded.encoding == "gb18030" and not decoded.lossy
