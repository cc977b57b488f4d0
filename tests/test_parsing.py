"""Pages are parsed with lxml directly: no valid page is "not HTML" because of how it starts."""

from __future__ import annotations

import trafilatura

from extractors import Page, extract
from extractors.parsing import parse_html

PARAGRAPHS = "".join(f"<p>第{i}段：国家统计局今日公布的数据显示，工业生产保持平稳增长，消费市场持续恢复。</p>" for i in range(1, 6))


PROLOGUE = "\r\n\r\n<script language='javascript'>\nvar ua = navigator.userAgent; var channel = 'finance';\n</script>\n"


def test_a_page_whose_prologue_puts_everything_in_head_is_parsed_again_from_html():
    # a script prologue before <html> and an unclosed <title>: libxml2 files the whole page under <head>
    page = PROLOGUE + "<title>统计局\n<html><head></head><body><h1>统计局：工业生产平稳增长</h1>" + PARAGRAPHS + "</body></html>"
    assert trafilatura.load_html(page) is None  # what rejected such pages as "not HTML"
    assert "第3段：国家统计局" in parse_html(page).xpath("string(//body)")
    article = extract(Page("http://news.example.cn/2005/08/16/a.html", page.encode("gb18030")))
    assert "第1段：国家统计局今日公布的数据显示" in article.body and "第5段" in article.body


def test_a_page_that_starts_with_blank_lines_and_a_bare_div_is_an_article():
    page = "\r\n\r\n<div class='main'><h1>统计局：工业生产平稳增长</h1>" + PARAGRAPHS + "</div>"
    article = extract(Page("http://news.example.cn/a.html", page))
    assert "第3段：国家统计局今日公布的数据显示" in article.body


def test_an_xml_declaration_in_text_is_no_obstacle():
    page = "<?xml version='1.0' encoding='gb2312'?>\n<html><body><h1>标题</h1>" + PARAGRAPHS + "</body></html>"
    assert "第2段" in parse_html(page).xpath("string(//body)")
