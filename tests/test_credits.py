"""Bylines and credits at the edges of a body go to `authors`, and leave the body."""

from __future__ import annotations

import pytest

from extractors.credits import take_credits

BODY = ["第一段：公司昨日发布公告称，拟回购不超过5亿元股份。", "第二段：分析人士认为，此举有助于稳定市场预期。"]


@pytest.mark.parametrize(
    "byline, person",
    [
        ("文：《财经》杂志特约撰稿人 李明", "李明"),  # outlet in 《》 and a role before the name
        ("文/《三联生活周刊》主笔 王恺", "王恺"),
        ("作者：《第一财经》首席评论员 周文", "周文"),
        ("文|新京报记者 张三", "张三"),
    ],
)
def test_a_closing_byline_naming_outlet_and_role_gives_the_person(byline, person):
    kept, credits = take_credits([*BODY, byline])
    assert kept == BODY
    assert credits.authors == [person]


def test_a_sentence_quoting_a_publication_is_no_byline():
    line = "《人民日报》评论员文章指出，要坚持稳中求进工作总基调。"
    kept, credits = take_credits([line, *BODY])
    assert kept == [line, *BODY] and credits.authors == []


@pytest.mark.parametrize("role", ["评论员", "主笔", "撰稿人", "研究员"])
def test_a_role_word_is_never_taken_as_a_name(role):
    kept, credits = take_credits([*BODY, f"（本报{role}）"])
    assert role not in " ".join(credits.authors)


def test_a_byline_after_the_dateline_gives_the_persons():
    lede = "新华社北京5月9日电 题：前4个月我国外贸向好态势进一步巩固"
    kept, credits = take_credits([lede, "新华社记者张三、李四、王五", *BODY])
    assert kept == [lede, *BODY]
    assert credits.authors == ["张三", "李四", "王五"]


def test_a_closing_writer_note_leaves_the_body_even_without_a_name_to_cut():
    kept, credits = take_credits([*BODY, "（作者：李明华东南大学经济管理学院教授）"])
    assert kept == BODY
