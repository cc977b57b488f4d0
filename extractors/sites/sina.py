"""Sina (新浪): finance/news/tech desktop pages, mobile finance.sina.cn, k.sina, t.cj.

Templates by era (SINA.md §3); pages of 2004–2005 table layouts have no
reliable markers and go to the generic path.
"""

from __future__ import annotations

from extractors.rules import Layout, SiteRule

# Inside the body container, never article (SINA.md §5).
_COMMON_DROP = (
    ".appendQr_wrap",
    ".app-kaihu-qr",
    "#app-kaihu-stock",
    ".app-qihuo-kaihu-qr",
    "[class*=kaihu]",
    ".finance_app_sina",
    "span[id^=quote_]",
    "div.ct_hqimg",
    ".hqimg_related",
    "div.article-notice",
    "p.article-notice",
    "div[class^=otherContent]",
    "p[class^=finance_web]",
    "div[class^=weibo]",
    "div.ggcontent",
    "div.page-view",
    "#left_hzh_ad",
    ".tech-quotation",
    ".video-2017",
    ".artical-player-wrap",
    "#J_Article_Player",
    ".goods-card",
    "ins.sinaads",
    "p.article-editor",
    "p.show_author",
    "#wx_pic",
    "[sax-type]",
)

# The time the page shows is the publication time; article:published_time is
# sometimes a later edit, so it comes last (weibo create_at matches the shown time).
_PUBLISHED_META = "meta[property='article:published_time']::attr(content)"
_CREATED_META = "meta[name='weibo: article:create_at']::attr(content)"
# Sina marks securities with span ids: usstock_JPM, stock_sh600000, hkstock_00700.
_QUOTE_IDS = ("span[id^=usstock_]::attr(id)", "span[id^=stock_]::attr(id)", "span[id^=hkstock_]::attr(id)")
_EDITOR_LINES = ("p.article-editor", "p.show_author")

V2017 = Layout(
    name="v2017",
    marker="h1.main-title",
    title=("h1.main-title",),
    published_at=(".date-source .date", _CREATED_META, _PUBLISHED_META),
    # self-media pages show the platform (新浪看点) as source; the outlet is in the meta
    source=(
        ".date-source .source",
        "meta[name=mediaid]::attr(content)",
        "meta[property='article:author']::attr(content)",
    ),
    source_url=(".date-source a.source::attr(href)",),
    editor=_EDITOR_LINES,
    body=("#artibody", "#article", ".article"),
    drop=_COMMON_DROP,
    symbols=_QUOTE_IDS,
)

V2008 = Layout(
    name="v2008",
    marker="#artibodyTitle",
    title=("#artibodyTitle",),
    published_at=("#pub_date", ".time-source", _CREATED_META, _PUBLISHED_META),
    source=("#media_name", ".time-source a", "#art_source", ".time-source"),
    source_url=("#media_name a::attr(href)", ".time-source a::attr(href)"),
    editor=_EDITOR_LINES,
    body=("#artibody",),
    drop=_COMMON_DROP,
    symbols=_QUOTE_IDS,
)

MOBILE = Layout(
    name="mobile2017",
    marker="h1.art_tit_h1",
    title=("h1.art_tit_h1",),
    published_at=("time.weibo_time", _CREATED_META, _PUBLISHED_META),
    source=("h2.weibo_user", ".art_tit_h2 .source"),
    body=("section.art_content",),
    drop=_COMMON_DROP,
)

# 2004–2005 table layout: headline in th.f24, a centred line "http://… 2005年03月31日03:18
# <font>媒体</font>" under it, the text in the innermost td.l17 holding paragraphs.
_V2004_DATELINE = "//th[@class='f24']/ancestor::table[1]//td[contains(., '年') and contains(., '日') and not(.//td)]"
V2004 = Layout(
    name="v2004",
    marker="th.f24",
    title=("th.f24",),
    published_at=(_V2004_DATELINE,),
    source=(_V2004_DATELINE + "/font",),  # 《理财周刊》: the marks are dropped below
    body=("//td[@class='l17'][.//p][not(.//td[@class='l17'])]",),
    drop=(".//table", ".//form", ".//iframe", "p.title12"),
    # the picture sits in a <center>, its caption in the next <center>
    caption="../following-sibling::center[1][not(.//img)]",
)

# 2004 book channel (读书频道) chapters: title in red inside td.title14, text in font#zoom.
V2004_BOOK = Layout(
    name="v2004book",
    marker="//td[@class='title14']/font[@color='red']/b",
    title=("//td[@class='title14']/font[@color='red']/b",),
    authors=("//td[contains(., '作者：') and not(.//td)]",),
    body=("//font[@id='zoom'][.//p]",),
    drop=(".//table", ".//center", ".//iframe", "//a[contains(., '上一篇') or contains(., '下一篇')]/.."),
)

RULE = SiteRule(
    name="sina",
    domains=("sina.com.cn", "sina.cn"),
    layouts=(V2017, V2008, MOBILE, V2004, V2004_BOOK),
    version=1,
    title_suffix=r"(\|[^|_]*)*_(新浪\w+|手机新浪网)(_新浪网)?$",
    platform_labels=frozenset({"新浪看点", "新浪网", "新浪"}),
    article_urls=(
        r"^https?://[\w.-]+\.sina\.com\.cn/(?:[\w./-]+/)?(?:doc|zl)-i\w{7}\d{7}\.shtml",
        r"^https?://finance\.sina\.cn/(?:[\w./-]+/)?detail-i\w{7}\d{7}\.d\.html",
        r"^https?://k\.sina\.(?:com\.)?cn/article_\w+\.html",
        r"^https?://t\.cj\.sina\.com\.cn/articles/view/\d+/\w+",
    ),
    skip_urls={  # SINA.md §1: not articles, though the roll API lists them
        "video": r"^https?://video\.sina\.(?:com\.)?cn/",
        "slide": r"^https?://slide\.(?:[\w-]+\.)*sina\.(?:com\.)?cn/",
        "live": r"^https?://[\w.-]+\.sina\.(?:com\.)?cn/7x24/|^https?://zhibo\.sina\.com\.cn/",
    },
)
