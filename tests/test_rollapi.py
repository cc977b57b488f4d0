from datetime import datetime, timezone

import pytest

from crawler.rollapi import (
    DEFAULT_CHANNELS,
    RollApiError,
    epoch,
    parse_channels,
    parse_roll_page,
    roll_api_url,
)
from tests.helpers import roll_api_body


def test_request_url_is_exactly_the_documented_form():
    assert roll_api_url(153, 2516, 3) == "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2516&num=50&page=3"


def test_default_channels_are_the_finance_channels():
    assert DEFAULT_CHANNELS == (
        (153, 2516), (153, 2517), (153, 2518),
        (384, 2519), (384, 2671), (384, 2672), (384, 2673), (384, 2674), (384, 2675), (384, 2676),
    )  # fmt: skip


def test_times_as_integers_and_strings():
    body = roll_api_body([
        {"url": "https://finance.sina.com.cn/a/doc-iabcdefg1234567.shtml", "title": " 标题 ", "ctime": 1568033520,
         "mtime": "1568033580", "media_name": "中国证券报", "intro": ""},
        {"url": "https://finance.sina.com.cn/b/doc-iabcdefg7654321.shtml", "ctime": "", "mtime": None},
    ])  # fmt: skip
    first, second = parse_roll_page(body)
    assert first.ctime == datetime(2019, 9, 9, 12, 52, tzinfo=timezone.utc)
    assert first.mtime == datetime(2019, 9, 9, 12, 53, tzinfo=timezone.utc)
    assert (first.title, first.media_name, first.intro) == ("标题", "中国证券报", None)
    assert second.ctime is None and second.mtime is None


@pytest.mark.parametrize("value", ["abc", True, -5, 0, {}, None])
def test_unusable_times_are_none(value):
    assert epoch(value) is None


def test_empty_data_is_an_empty_page():
    assert parse_roll_page(roll_api_body([])) == []
    assert parse_roll_page(b'{"result": {"status": {"code": 0}, "data": null}}') == []


def test_items_without_url_are_ignored():
    assert parse_roll_page(roll_api_body([{"title": "no url"}, "junk"])) == []


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


def test_channels_argument():
    assert parse_channels("153:2516, 384:2519") == [(153, 2516), (384, 2519)]
    for bad in ("153", "a:b", ",", "153:2516:1"):
        with pytest.raises(ValueError):
            parse_channels(bad)
