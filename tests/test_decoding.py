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


def test_undeclared_gbk_with_a_stray_byte_is_gb18030_with_one_replacement():
    text = "<html><head><title>央行降息</title></head><body>" + "<p>中国人民银行决定下调存款准备金率。</p>" * 300 + "</body></html>"
    body = text.encode("gbk")
    cut = body.index("准备金".encode("gbk"))
    broken = body[:cut] + b"\xff" + body[cut:]  # one byte no encoding here reads
    decoded = decode_html(broken)
    assert decoded.encoding == "gb18030"
    assert decoded.lossy and decoded.replacements == 1
    assert decoded.text.count("\ufffd") == 1
    assert decoded.text.count("中国人民银行决定下调存款准备金率") == 299
    assert "1 undecodable" in decoded.warning


def test_a_few_bad_bytes_in_utf8_stay_utf8():
    text = "<html><head><meta charset='utf-8'></head><body>" + "<p>新浪财经讯 央行今日开展逆回购操作。</p>" * 50
    body = text.encode("utf-8")
    cut = body.index("逆回购".encode("utf-8"))
    broken = body[:cut] + b"\xff" + body[cut:]  # between two characters
    decoded = decode_html(broken)
    assert decoded.encoding == "utf-8" and decoded.replacements == 1
    assert decoded.text.count("央行今日开展逆回购操作") == 49


def test_the_pages_own_replacement_characters_are_not_a_decoding_loss():
    decoded = decode_html("<meta charset='utf-8'><p>乱码\ufffd示例</p>".encode("utf-8"))
    assert not decoded.lossy and decoded.encoding == "utf-8"


def test_a_four_byte_gb18030_character_under_a_gb2312_label_is_kept():
    # 𠮷 (U+20BB7) exists only in GB18030, as four bytes; GBK and GB2312 cannot read it
    body = '<html><head><meta charset="gb2312"></head><body><p>吉野家的𠮷字与朱镕基</p></body></html>'.encode("gb18030")
    assert "\ufffd" in body.decode("gbk", errors="replace")  # what a GBK reading would give
    for content_type in (None, "text/html; charset=gb2312", "text/html; charset=GBK"):
        decoded = decode_html(body, content_type)
        assert decoded.encoding == "gb18030" and not decoded.lossy, content_type
        assert "吉野家的𠮷字与朱镕基" in decoded.text, content_type
