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


@pytest.mark.parametrize(
    "glued, editor",
    [
        ("中国经济这艘大船一定能够行稳致远！编辑|王五", "王五"),
        ("年通过能力75万人次。▲广州日报全媒体图片记者张三、李四摄", None),
        ("市场预期将逐步改善。（责任编辑：赵六）", "赵六"),
    ],
)
def test_a_credit_glued_after_the_last_sentence_leaves_the_paragraph(glued, editor):
    cleaned = clean_lines([*BODY, glued])
    head = glued[: max(glued.rfind(end) for end in "。！") + 1]
    assert cleaned.body == "\n".join([*BODY, head])
    assert cleaned.editor == editor


def test_a_sentence_after_the_last_stop_that_is_no_boilerplate_stays_glued():
    line = "公司业绩大幅增长。编辑部认为这一趋势仍将持续"
    assert clean_lines([line]).body == line
