"""Sina Taiwan (新浪台灣, news.sina.com.tw): its own template, Traditional Chinese."""

from __future__ import annotations

from extractors.rules import Layout, SiteRule

V2020 = Layout(
    name="v2020",
    marker="#articles h1, #article_content",
    title=("#articles h1", "h1"),
    # <cite><a>北京新浪網</a> (2020-01-21 11:12)</cite>
    published_at=("cite", "meta[property='article:published_time']::attr(content)"),
    source=("cite a",),
    body=("#article_content .pcont", "#article_content"),
    drop=("[name^=iclickAdBody]", "script", "ins"),
)

RULE = SiteRule(
    name="sina_tw",
    domains=("sina.com.tw",),
    layouts=(V2020,),
    version=1,
    title_suffix=r"-[^-]*新聞-新浪新聞中心$",
    article_urls=(r"^https?://news\.sina\.com\.tw/article/\d{8}/\d+\.html",),
)
