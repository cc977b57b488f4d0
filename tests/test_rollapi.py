import json
from datetime import datetime, timedelta, timezone

import pytest

from crawler.rollapi import (
    RollApiError,
    parse_channels,
    parse_roll_page,
    roll_api_url,
)
from tests.helpers import roll_api_body

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
GOOD_URL = "https://finance.sina.com.cn/a/doc-iabcdefg1234567.shtml"


def test_request_url_is_exactly_the_documented_form():
    assert roll_api_url(153, 2516, 3) == "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2516&num=50&page=3"


def test_times_as_integers_and_strings():
    body = roll_api_body([
        {"url": GOOD_URL, "title": " 标题 ", "ctime": 1568033520, "mtime": "1568033580", "media_name": "中国证券报",
         "intro": ""},
        {"url": "https://finance.sina.com.cn/b/doc-iabcdefg7654321.shtml", "ctime": "", "mtime": None},
    ])  # fmt: skip
    page = parse_roll_page(body, now=NOW)
    first, second = page.items
    assert first.ctime == datetime(2019, 9, 9, 12, 52, tzinfo=timezone.utc)
    assert first.mtime == datetime(2019, 9, 9, 12, 53, tzinfo=timezone.utc)
    assert (first.title, first.media_name, first.intro) == ("标题", "中国证券报", None)
    assert second.ctime is None and second.mtime is None
    assert page.bad_items == page.bad_times == [] and page.capped == 0


def test_empty_data_is_an_empty_page():
    assert parse_roll_page(roll_api_body([])).items == []
    assert parse_roll_page(b'{"result": {"status": {"code": 0}, "data": null}}').items == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"result": {"status": {"code": 11, "msg": "lid error"}, "data": []}}', "status code 11: lid error"),
        (b"<html>502 Bad Gateway</html>", "invalid JSON"),
        (b'{"error": 1}', "no 'result'"),
        (b'{"result": {"status": {"code": 0}, "data": {"x": 1}}}', "not a list"),
    ],
)
def test_unusable_answers_raise(body, message):
    with pytest.raises(RollApiError, match=message):
        parse_roll_page(body)


# --- one bad entry costs that entry only ---------------------------------------------------------------------------

# entries as a hostile or broken API could send them, each with what the page reports (JSON text, since
# json.dumps cannot write a lone surrogate: the API's "\ud800" escape is what carries one)
BAD_ENTRIES = [
    ('{"title": "no url"}', "no URL"),
    ('"junk"', "not an object"),
    ('{"url": 12345}', "URL is not text"),
    ('{"url": "https://finance.sina.com.cn/\\ud800.shtml"}', "lone surrogate"),
    ('{"url": "https://finance.sina.com.cn/a b.shtml"}', "spaces or control characters"),
    ('{"url": "https://finance.sina.com.cn/a\\u0000.shtml"}', "spaces or control characters"),
    ('{"url": "https://finance.sina.com.cn:99999/doc.shtml"}', "malformed"),
    ('{"url": "http://[::1/doc.shtml"}', "malformed"),
    ('{"url": "https://finance.sina.com.cn/' + "x" * 3000 + '"}', "longer than 2048"),
]


@pytest.mark.parametrize(("entry", "why"), BAD_ENTRIES, ids=[why for _, why in BAD_ENTRIES])
def test_an_unusable_entry_is_reported_and_the_rest_of_the_page_kept(entry, why):
    good = json.dumps({"url": GOOD_URL, "ctime": 1568033520})
    body = '{"result": {"status": {"code": 0}, "data": [%s, %s, %s]}}' % (good, entry, good.replace("1234567", "7654321"))
    page = parse_roll_page(body.encode(), now=NOW)
    assert [item.url for item in page.items] == [GOOD_URL, GOOD_URL.replace("1234567", "7654321")]
    assert len(page.bad_items) == 1 and page.bad_items[0].startswith("item 2: ") and why in page.bad_items[0]


BAD_TIMES = [
    ("inf", "not finite"), ("-inf", "not finite"), ("nan", "not finite"), ("NaN", "not finite"),
    ("1e20", "in the future"), (1e300, "in the future"), ("4102444800", "in the future"),  # 2100-01-01
    ("abc", "not a number"), (True, "not a number"), ({}, "not a number"), ([1], "not a number"),
    (-5, "before 1995"), (86400, "before 1995"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "why"), BAD_TIMES, ids=[repr(v) for v, _ in BAD_TIMES])
def test_an_unusable_time_is_ignored_and_reported_and_the_item_kept(value, why):
    body = roll_api_body([{"url": GOOD_URL, "ctime": value, "mtime": 1568033520}])
    page = parse_roll_page(body, now=NOW)
    (item,) = page.items
    assert item.ctime is None and item.mtime == datetime(2019, 9, 9, 12, 52, tzinfo=timezone.utc)
    assert len(page.bad_times) == 1 and page.bad_times[0].startswith("item 1 ctime ") and why in page.bad_times[0]


def test_a_time_just_ahead_of_our_clock_is_within_the_skew():
    ahead = NOW + timedelta(minutes=30)
    page = parse_roll_page(roll_api_body([{"url": GOOD_URL, "ctime": ahead.timestamp()}]), now=NOW)
    assert page.items[0].ctime == ahead and page.bad_times == []
    page = parse_roll_page(roll_api_body([{"url": GOOD_URL, "ctime": ahead.timestamp()}]), now=NOW,
                           skew=timedelta(minutes=10))  # fmt: skip
    assert page.items[0].ctime is None and "in the future" in page.bad_times[0]


@pytest.mark.parametrize("absent", ["", None, 0, "0"])
def test_absent_times_are_none_without_a_report(absent):
    page = parse_roll_page(roll_api_body([{"url": GOOD_URL, "ctime": absent, "mtime": absent}]), now=NOW)
    assert page.items[0].ctime is None and page.bad_times == []


def test_text_fields_are_made_storable():
    body = b'{"result": {"status": {"code": 0}, "data": [{"url": "%s", "title": "a\\u0000b\\ud800c", "media_name": "%s"}]}}' % (
        GOOD_URL.encode(), b"m" * 5000)  # fmt: skip
    (item,) = parse_roll_page(body, now=NOW).items
    assert item.title == "ab?c"  # PostgreSQL refuses NUL and lone surrogates, also in JSON columns
    assert len(item.media_name) == 1000


def test_entries_past_the_cap_are_counted_not_read():
    items = [{"url": GOOD_URL.replace("1234567", f"{n:07d}")} for n in range(10_000)]
    page = parse_roll_page(roll_api_body(items), now=NOW, max_items=500)
    assert len(page.items) == 500 and page.capped == 9_500
    assert page.items[-1].url == items[499]["url"]


def test_channels_argument():
    assert parse_channels("153:2516, 384:2519") == [(153, 2516), (384, 2519)]
    for bad in ("153", "a:b", ",", "153:2516:1"):
        with pytest.raises(ValueError):
            parse_channels(bad)
