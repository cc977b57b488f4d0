"""Sina (新浪): finance/news/tech desktop pages, mobile finance.sina.cn, k.sina, t.cj.

Templates by era (SINA.md §3); pages of 2004–2005 table layouts have no
reliable markers and go to the generic path.
"""

from __future__ import annotations

from extractors.boilerplate import Family
from extractors.rules import Layout, SiteRule
from extractors.sources import Politeness, RollApi

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

# Sina's promos and widgets (SINA.md §5, EXTRACTION_SPEC.md): they travel with
# syndicated copies and broker-app feeds, so every page is checked for them.
BOILERPLATE_PROMOS = Family(
    name="sina_promos",
    kind="drop",
    patterns=(
        r"炒股就看金麒麟",
        r"海量资讯、?精准解读|尽在新浪财经APP",
        r"安装新浪财经客户端",
        r"进入【新浪财经股吧】",
        r"点个爱心,?再走吧",
        r"新浪财经意见反馈留言板",
        r"下一条快讯将在",
        r"炒股开户享福利",
        r"当前浏览器不支持在线预览PDF文件",
        r"^APP专享$|^新浪(?:财经|新闻)公众号$",
    ),
    examples=(
        "炒股就看金麒麟分析师研报，权威，专业，及时，全面，助您挖掘潜力主题机会！",
        "海量资讯、精准解读，尽在新浪财经APP",
        "相关新闻 投资热点尽在新浪财经APP>",
        "安装新浪财经客户端第一时间接收最全面的市场资讯→【下载地址】",
        "进入【新浪财经股吧】讨论",
        "点个爱心，再走 吧",
        "新浪财经意见反馈留言板",
        "下一条快讯将在30秒后自动推送",
        "炒股开户享福利，入金抽188元红包，100%中奖！",
        "当前浏览器不支持在线预览PDF文件",
        "APP专享",
        "新浪财经公众号",
    ),
    near_misses=(
        "新浪财经讯 5月25日上午消息，据彭博新闻社报道",
        "新浪财经APP数据显示，该股今日成交额居前。",
        "他点了个爱心，转身离开。",
    ),
    max_len=120,
)

BOILERPLATE_DISCLAIMER = Family(
    name="sina_disclaimer",
    kind="cut",
    patterns=(r"^[【\[]?新浪声明(?:[】\]]|:)",),
    examples=(
        "新浪声明：此消息系转载自新浪合作媒体，新浪网登载此文出于传递更多信息之目的，并不意味着赞同其观点或证实其描述。文章内容仅供参考，不构成投资建议。投资者据此操作，风险自担。",
        "【新浪声明】此消息系转载自新浪合作媒体。",
    ),
    near_misses=("新浪声明称，将严肃处理违规账号。",),
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
    boilerplate=(BOILERPLATE_PROMOS, BOILERPLATE_DISCLAIMER),
    politeness=Politeness(
        headers=(("Referer", "https://finance.sina.com.cn/roll/"),),  # as a reader of the roll page
        ban_pages=(r"IP\s*存在异常访问",),  # "您的IP 存在异常访问，已被新浪安全部门封禁" (SINA.md)
    ),
    # the finance channels the news spider (and its alias sina_finance) sweeps, pageid:lid
    sources=(
        RollApi(
            channels=(
                (153, 2516),  # 财经
                (153, 2517),  # 股市
                (153, 2518),  # 美股
                (384, 2519),  # 财经 (finance roll)
                (384, 2671),  # 股市
                (384, 2672),  # 美股
                (384, 2673),  # 中国概念股
                (384, 2674),  # 港股
                (384, 2675),  # 研究报告
                (384, 2676),  # 全球市场
            )
        ),
    ),
)
