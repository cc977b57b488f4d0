"""clean_lines: what a pruned headline list leaves at the end of a body goes too."""

from __future__ import annotations

import pytest

from extractors.clean import clean_lines

BODY = ["公司昨日发布公告称，拟回购不超过5亿元股份。", "分析人士认为，此举有助于稳定市场预期。"]


@pytest.mark.parametrize(
    "remnants",
    [
        ["理论新闻精选："],
        ["相关专题:", "- 2020年07月08日 13:36:14", "- 2020年07月07日 15:39:10"],
        ["2021-03-05 09:12", "2021/03/04 18:40:02"],
    ],
)
def test_a_dropped_lists_heading_and_timestamps_leave_the_end_of_the_body(remnants):
    assert clean_lines([*BODY, *remnants]).body == "\n".join(BODY)


@pytest.mark.parametrize(
    "ending",
    [
        ["董事会", "2005年8月25日"],  # an announcement signed with a day
        ["他表示：", "“我们会继续观察。”"],  # a colon inside the body, text after it
        ["公司将于下周公布具体方案，届时市场将迎来新的观察窗口："],  # a long line, no heading
    ],
)
def test_an_ending_that_is_article_text_stays(ending):
    assert clean_lines([*BODY, *ending]).body == "\n".join([*BODY, *ending])
