"""Site-neutral boilerplate families (see boilerplate.py for the key patterns are written against).

Examples are real lines from development pages (tests/fixtures, shared/corpus,
the issue text and EXTRACTION_SPEC.md) where we have them. Each pattern must
be the only one that catches at least one example of its family: the tests
delete patterns one at a time and expect an example to leak.
"""

from __future__ import annotations

from extractors.boilerplate import Family

_BRACKET_OPEN = r"[(\[【]"
_BRACKET_CLOSE = r"[)\]】]"

COPYRIGHT = Family(
    name="copyright",
    kind="drop",
    patterns=(
        r"(?i:copyright) ?(?:©|\(c\))",
        r"版权所有(?![者人方权])",
        r"凡注明.{0,30}版权均?(?:属|归)",
        r"转载请(?:注明|联系|务必)",
        r"未经(?:授权|许可).{0,12}(?:不得|禁止|严禁)(?:转载|使用|复制)",
        r"相关权益归.{0,30}所有",
    ),
    examples=(
        "Copyright © 1996-2018 SINA Corporation",
        "Copyright ©1996-2016 SINA Corporation, All Rights Reserved",
        "All Rights Reserved 新浪公司 版权所有",
        "© 1997-2015 网易公司版权所有 About NetEase | 公司简介 | 联系方法 | 招聘信息",
        "本网站由南方新闻网版权所有，未经授权禁止复制或建立镜像 广东南方网络信息科技有限公司负责制作维护",
        "凡注明“来源：和讯网”的所有作品，版权均属于和讯网，未经本网授权不得转载。",
        "本文为作者授权网易财经专栏发布，转载请注明出处。",
        "未经授权，禁止转载",
        "【美国The Next Web作品的中文相关权益归腾讯公司所有】",
    ),
    near_misses=(
        "版权所有者有权要求平台删除侵权内容。",
        "该案涉及的作品版权归属问题仍有争议，法院将于下月再次开庭审理。",
        "法院认定被告未经授权转载原告作品，构成侵权。",
    ),
    max_len=160,
)

FOOTER = Family(
    name="footer",
    kind="drop",
    patterns=(
        r"ICP(?:备|证|经营许可证)",
        r"不良信息举报|有害信息举报",
        r"^举报(?:邮箱|电话):",
    ),
    examples=(
        "京ICP证000007",
        "ICP备案号：粤B-20050235",
        "违法和不良信息举报电话：010-62675637",
        "南方报业 党政网站 新媒体矩阵 地市 网络有害信息举报专区",
        "举报邮箱：jubao@vip.sina.com",
    ),
    near_misses=(
        "网信办开通违法和不良信息举报平台以来，已累计受理举报10万件。",
        "公司此前已取得ICP经营许可证。",
        "市民可拨打举报电话12345反映问题。",
    ),
    max_len=120,
    sentence=False,
)

# Disclaimers that start a line end the article: the rest is platform chrome.
DISCLAIMER = Family(
    name="disclaimer",
    kind="cut",
    patterns=(
        rf"^[“\"]?(?:{_BRACKET_OPEN}(?:免责|特别|郑重|平台)?声明{_BRACKET_CLOSE}|(?:免责|特别|郑重|平台)?声明:|(?:免责|特别)声明$)",
        r"^(?i:disclaimer) ?:",
    ),
    examples=(
        "免责声明：自媒体综合提供的内容均源自自媒体，版权归原作者所有，转载请联系原作者并获许可。文章观点仅代表作者本人，不代表新浪立场。若内容涉及投资建议，仅供参考勿作为投资依据。投资有风险，入市需谨慎。",
        "【免责声明】本文仅代表作者本人观点，与和讯网无关。和讯网站对文中陈述、观点判断保持中立。",
        "声明：证券时报力求信息真实、准确，文章提及内容仅供参考，不构成实质性投资建议，据此操作风险自担。",
        "特别声明：以上内容(如有图片或视频亦包括在内)为自媒体平台“网易号”用户上传并发布，本平台仅提供信息存储服务。",
        "“特别声明：以上作品内容(包括在内的视频、图片或音频)为凤凰网旗下自媒体平台“大风号”用户上传并发布，本平台仅提供信息存储空间服务。",
        "平台声明：该文观点仅代表作者本人，搜狐号系信息发布平台，搜狐仅提供信息存储空间服务。",
        "免责声明：本内容来自腾讯平台创作者，不代表腾讯新闻或腾讯网的观点和立场。",
        "特别声明",
        "Disclaimer: Investing carries risk. This is not financial advice.",
    ),
    near_misses=(
        "他在声明中表示，公司将继续配合监管部门的调查。",
        "公司发布免责声明称，相关信息不实。",
        "声明称，最近的指标表明美国经济活动继续温和增长，近几个月就业增长强劲，失业率保持在低位，通胀率仍然很高。",
        "美联储在为期两天的货币政策例会后发表声明，强调维持联邦基金利率目标区间不变。",
        "“坚定看好中国经济增长，坚定看好中国证券市场。”7月2日，华夏人寿保险发表声明称。",
        "Disclaimers in fund prospectuses have grown longer.",
    ),
)

# Disclaimer sentences standing as their own line, wherever they are.
DISCLAIMER_SENTENCE = Family(
    name="disclaimer_sentence",
    kind="drop",
    patterns=(
        rf"^{_BRACKET_OPEN}?(?:本文|以上|文章|该文)[^。]{{0,30}}(?:仅|不)代表[^。]{{0,12}}(?:观点|立场|意见)",
        r"^(?=.*(?:观点|立场|作者|转载|仅供参考)).*与(?:本(?:网|站|平台)|[\u4e00-\u9fff]{1,6}网)无关",
        rf"^{_BRACKET_OPEN}?(?:本文|以上|文章|上述|文中|本报告|网站上)[^。]{{0,40}}(?:不构成|并不是|并非)(?:任何)?(?:实质性)?投资建议",
        rf"^{_BRACKET_OPEN}?(?:投资|股市|市场)有风险,?(?:入市|投资)需谨慎",
        r"网友评论仅供其表达个人看法",
    ),
    examples=(
        "本文仅代表作者观点，不代表网易意见",
        "本文为政务等机构在澎湃新闻上传并发布，仅代表该机构观点，不代表澎湃新闻的观点或立场，澎湃新闻仅提供信息发布平台。",
        "（文章来源于网络，如有侵权请联系删除，转载内容与本网无关。）",
        "以上内容仅供参考，不构成投资建议。",
        "网站上所有的资料或讯息仅作为参考之用，并不是任何投资建议·雅虎或其他资料提供伙伴并不为资料内容错误负任何责任·",
        "投资有风险，入市需谨慎。",
        "网友评论仅供其表达个人看法，并不表明网易立场。",
    ),
    near_misses=(
        "他强调，这份报告不构成投资建议，仅供参考。",
        "M&G不提供投资建议。",
        "文章指出，这一调整并不代表货币政策转向。",
        "公司回应称，此事与本公司无关。",
        "这与互联网无关。",
        "分析人士提醒，股市有风险，入市需谨慎。",
    ),
    max_len=200,
)

LOGIN = Family(
    name="login",
    kind="drop",
    patterns=(
        r"快速登录|一键登录|自动登录|免登录|换个账号登录|登录并发[表贴]",
        r"注册\|?登录|登录\|?注册|^(?:登录|注册)$",
        r"忘记密码",
    ),
    examples=(
        "登录超时，稍后再试 免注册 快速登录 消息 通知 公告0",
        "一键登录： 凤凰账号/新浪微博",
        "自动登录 登录并发表",
        "下次自动登录",
        "登录|注册",
        "报料 注册 登录",
        "登录",
        "忘记密码立即注册",
    ),
    near_misses=(
        "记者登录该网站发现，相关页面已被删除。",
        "用户注册登录后即可参与抽奖。",
        "该平台要求用户实名注册。",
    ),
    max_len=60,
    sentence=False,
)

TOOLBAR = Family(
    name="toolbar",
    kind="drop",
    patterns=(
        r"(?:缩小|放大|增大|减小)字体|字号(?:减小|增大)",
        rf"^{_BRACKET_OPEN}?(?:字号|字体):?(?:$|{_BRACKET_OPEN}?(?:大中小|小中大))|【大中小】",
        r"打印本页|关闭窗口|【打印】|【关闭】",
        r"^分享(?:到|至|让更多人看到|$)|扫一扫:分享",
        r"【(?:我要)?纠错】",
    ),
    examples=(
        "缩小字体 放大字体 收藏 微博 微信 分享 0",
        "新浪财经APP 缩小字体 放大字体 收藏 微博 微信 分享",
        "添加喜爱 打印 增大字体 减小字体",
        "字号减小 字号增大",
        "字号 大 中 小",
        "字体： 小 中 大",
        "字号：",
        "【评论】【推荐】【大 中 小】【打印】【下载点点通】【关闭】",
        "打印本页 关闭窗口",
        "返回页首 | 关闭窗口",
        "分享到：",
        "分享至",
        "微信扫一扫：分享",
        "分享让更多人看到",
        "【纠错】",
    ),
    near_misses=(
        "分享到朋友圈的视频迅速走红，播放量超过千万。",
        "他将字体放大后重新打印了合同。",
        "字号老店的传承面临挑战。",
    ),
    max_len=80,
    sentence=False,
)

COMMENTS = Family(
    name="comments",
    kind="drop",
    patterns=(
        r"我来说两句",
        r"\d+人(?:参与|跟贴)",
        r"^(?:网友评论|我要评论|发表评论|查看全部评论>*|最热评论|最新评论|热门评论|我要反馈)(?:刷新)?$",
        r"举报(?:查看对话)?赞[\d,]*回复",
        r"还没有评论|抢沙发|评论内容为空|该评论已关闭",
        r"^(?:网友)?评论\d+条$",
        r"\[\d{1,3}\.\d{1,3}\.[\d*]{1,3}\.\*\]",  # "lr9111[219.130.79.*] 认为：": a commenter by masked IP
    ),
    examples=(
        "我来说两句 (0)",
        "■ 我来说两句",
        "已有12人参与",
        "网友跟贴 0人跟贴 | 0人参与 | 手机发跟贴 | 注册",
        "6条评论|106人参与网友评论",
        "网友评论",
        "查看全部评论>>",
        "最新评论 刷新",
        "我要反馈",
        "今天20:58举报赞38回复",
        "5月10日07:04举报查看对话赞87回复",
        "还没有评论，快来抢沙发吧！",
        "该评论已关闭!",
        "网友评论 0 条",
        "lr9111[219.130.79.*] 认为：",
        "网易广东省广州市网友[113.108.*.*]：",
    ),
    near_misses=(
        "已有3000人参与了此次调查。",
        "他在接受采访时发表评论说，市场已经见底。",
        "网友评论称，这一规定过于严苛。",
    ),
    max_len=60,
    sentence=False,
)

APP_PROMO = Family(
    name="app_promo",
    kind="drop",
    patterns=(
        rf"^{_BRACKET_OPEN}?手机看",
        r"下载.{0,10}(?:APP|客户端)|(?:APP|客户端)下载",
        r"用微信扫(?:码|描)?二维码",
        r"【点击[^】]{1,10}】$",  # a promo ending in its link: "…评选火热进行中！【点击投票】"
    ),
    examples=(
        "手机看新闻",
        "【手机看财经】",
        "下载APP",
        "下载网易BoBo手机客户端",
        "客户端下载",
        "澎湃新闻APP下载",
        "用微信扫码二维码",
        "用微信扫描二维码",
        "“2018十大经济年度人物评选”火热进行中！【点击投票】",
    ),
    near_misses=(
        "越来越多的老年人习惯用手机看新闻。",
        "用户下载APP后需要完成实名认证。",
        "该应用上线首月下载量突破百万。",
        "该视频的点击量突破千万【图】",
    ),
    max_len=60,
    sentence=False,
)

FOLLOW_PROMO = Family(
    name="follow_promo",
    kind="drop",
    patterns=(
        r"扫一扫.{0,6}关注|扫描.{0,8}二维码.{0,6}关注|扫码关注",
        r"^(?:欢迎|请|长按|点击|更多.{0,6}请)?关注(?:我们的|微信)?公众号",
        r"扫描左侧二维码",
        r"^扫描(?:下方|上方|文末|右侧|左方)二维码",
        r"^\d{1,2}[、.]? ?回复【[^】]{1,10}】",  # a WeChat account's keyword menu
        r"^更多.{0,10}请(?:点击|关注|访问|登录)",
    ),
    examples=(
        "扫一扫 关注我",
        "更多猛料！欢迎扫描左方二维码关注新浪新闻官方微信（xinlang-xinwen）",
        "24小时滚动播报最新的财经资讯和视频，更多粉丝福利扫描二维码关注（sinafinance）",
        "关注公众号「财经早餐」，获取更多资讯",
        "扫描左侧二维码即可添加网易商业易信公众号，更多资讯。",
        "扫描下方二维码解锁更多技能",
        "1、回复【公租房】查看最新消息",
        "6、回复【垃圾分类】查看投放指南",
        "更多精彩资讯请点击 网易股票",
    ),
    near_misses=(
        "记者扫一扫二维码发现，页面跳转到一个境外网站。",
        "他建议投资者关注公众号发布的公告。",
        "市民扫描二维码即可查询核酸检测结果。",
        "他回复【记者】的提问时表示，公司不会裁员。",
        "更多细节仍有待进一步调查。",
    ),
    max_len=80,
)

RELATED = Family(
    name="related",
    kind="drop",
    patterns=(
        # a related headline after the label
        rf"^[·]?{_BRACKET_OPEN}?(?:此前报道|相关报道|相关阅读|延伸阅读|推荐阅读|相关新闻|相关链接|精彩专题|热点专题){_BRACKET_CLOSE}?:.",
        # a widget title alone; a bare "相关新闻"/"相关报道" may head a story pasted in full
        # (kept; rules.drop_related_links removes it when only links follow)
        rf"^{_BRACKET_OPEN}?(?:相关阅读|延伸阅读|推荐阅读|相关链接){_BRACKET_CLOSE}?:?$",
        # the same title as a bulleted table cell of an old layout: "| ■相关链接 |"
        r"^\|? ?[■●◆▲·•]\s?(?:相关链接|相关阅读|延伸阅读|相关新闻|相关报道)\s?\|?$",
        r"点击进入.{0,6}专题",
        r"^(?:热门推荐|猜你喜欢|热门排行|排行榜?|阅读排行榜?|评论排行榜?)+$",
        r"点击加载更多",
        r"^(?i:most (?:discussed|read|popular))$",
    ),
    examples=(
        "此前报道：瑞丽轻轨项目已暂停建设",
        "相关阅读",
        "延伸阅读：57岁小学肄业 广西骗子演绎25亿美元惊天骗局",
        "相关报道：涉事企业已被责令整改",
        "推荐阅读",
        "·精彩专题：关注北京首例个人集资盖房事件(房产)",
        "点击进入专题：中美贸易摩擦",
        "热门推荐",
        "阅读排行榜 评论排行榜",
        "相关新闻 加载中 点击加载更多",
        "Most Discussed",
        "| ■相关链接 |",
        "■相关新闻",
    ),
    near_misses=(
        "此前报道称，该公司已于去年停产。",
        "相关报道显示，涉事企业已被责令整改。",
        "2017年12月，瑞丽召开关于暂停瑞丽市城市轨道交通项目建设的专题会议。",
        "Most analysts discussed the outlook.",
        "[相关新闻]",  # heads a related story the editor pasted in full (sina news_2018_c_ifxeuwwr9169891)
    ),
    max_len=80,
)

_EDITOR_PREFIX = r"(?:(?:编辑|策划|监制|统筹|校对|审核):[^:]{1,12}?)?"
_EDITOR_SUFFIX = r"(?:(?:校对|审核|审校|排版|实习生):[^:]{0,12})?"

# 责任编辑 is the editor field; a plain 编辑 line only when no 责任编辑 line is found.
EDITOR_IN_CHARGE = Family(
    name="editor_in_charge",
    kind="field",
    field="editor",
    patterns=(
        rf"^{_BRACKET_OPEN}?{_EDITOR_PREFIX}(?:责任编辑|责编):(?P<value>[^:)\]】]{{1,16}}?){_EDITOR_SUFFIX}{_BRACKET_CLOSE}?$",
    ),
    examples=(
        "责任编辑：余鹏飞",
        "【责任编辑：刘峻凌】",
        "[ 责编：杨煜 ]",
        "【责任编辑:张樵苏 】",
        "责任编辑：支全明 SF099",
        "编辑：倪仕轩 责任编辑：林涛",
        "（责任编辑：张三）",
    ),
    near_misses=(
        "责任编辑应当对稿件的真实性负责，他说。",
        "本文来源：新京报 作者：张三 责任编辑部",
    ),
    max_len=60,
)

EDITOR = Family(
    name="editor",
    kind="field",
    field="editor",
    patterns=(
        rf"^{_BRACKET_OPEN}?{_EDITOR_PREFIX}(?:本文)?编辑:(?P<value>[^:)\]】]{{1,16}}?){_EDITOR_SUFFIX}{_BRACKET_CLOSE}?$",
        r"^编辑 ?[|｜丨] ?(?P<value>[^|｜丨:]{2,12})$",  # "编辑|禤志杰" (a bar, as thepaper's syndicated copies print it)
    ),
    examples=(
        "（编辑：王五）",
        "【编辑:陈海峰】",
        "编辑：张三",
        "策划：杨顺霖 编辑：几乎不流浪",
        "编辑：刘晓阳 校对：李铭",
        "编辑|禤志杰",
        "编辑 | 李四",
    ),
    near_misses=(
        "编辑部表示，将对此事展开调查。",
        "主编：王五",
    ),
    max_len=60,
)

PHOTO_CREDIT = Family(
    name="photo_credit",
    kind="drop",
    patterns=(
        rf"^{_BRACKET_OPEN}?(?:图片来源|图片|图|摄影|摄)[:/]",
        r"/(?:视觉中国|东方IC|IC photo)$",
        # a caption left without its picture: a caption marker and a credit
        r"^[▲△].{0,40}(?:摄|供图|图片来源|资料图)",
    ),
    examples=(
        "图片来源：视觉中国",
        "图片来源：东方IC 版权作品 请勿转载",
        "（图片来源：视觉中国）",
        "图/pixabay",
        "图：工作人员在现场清点物资 /视觉中国",
        "工作人员在现场清点物资 /视觉中国",
        "▲广州日报全媒体图片记者张三、李四摄",
    ),
    near_misses=(
        "图为工作人员正在检修设备。",
        "图表显示，三季度营收同比增长12%。",
        "▲营收同比增长12%，净利润增长8%。",
    ),
    max_len=60,
)

KEYWORDS = Family(
    name="keywords",
    kind="drop",
    patterns=(r"^(?:文章关键词|关键词阅读|关键词|关键字|标签)(?::|>>)",),
    examples=(
        "关键字 : 公园",
        "文章关键词： 金融改革 黄益平 离岸人民币",
        "关键词阅读： 证监会 严打 期指 恶意做空",
        "关键词 >> 习近平",
        "标签：长春 景甜 长春市 疫情 新经济",
        "关键字： LPR",
    ),
    near_misses=(
        "今年政府工作报告的关键词是“稳”。",
        "贴上“太空”的标签吓唬人。",
    ),
    max_len=100,
)

DATABASE_PROMO = Family(
    name="database_promo",
    kind="drop",
    patterns=(r"推荐进入.{0,30}数据库",),
    examples=("推荐进入东方财富Choice数据库，可随时查阅相关公司的财务数据。",),
    near_misses=("该数据库可随时查阅历年统计数据，研究人员据此推荐进入门槛更低的方案。",),
    max_len=100,
)

# The print edition a web copy came from: "《 人民日报 》（ 2024年05月10日 04 版）".
PRINT_EDITION = Family(
    name="print_edition",
    kind="drop",
    patterns=(r"^《[^》]{2,16}》\(? ?\d{4}年\d{1,2}月\d{1,2}日(?:第?\d{1,3}版)? ?\)?$",),
    examples=(
        "《 人民日报 》（ 2024年05月10日 04 版）",
        "《经济日报》（2023年11月02日 第05版）",
        "《中国证券报》2024年3月1日",
    ),
    near_misses=(
        "据《人民日报》2024年5月10日报道，河南着力培育新动能。",
        "《人民日报》（2024年05月10日04版）刊发的评论指出，要坚持稳中求进。",
    ),
    max_len=40,
)

END_MARK = Family(
    name="end_mark",
    kind="drop",
    patterns=(rf"^{_BRACKET_OPEN}?完{_BRACKET_CLOSE}$",),
    examples=("（完）", "(完)", "【完】"),
    near_misses=("完", "（完整版）"),
)

FAMILIES: tuple[Family, ...] = (
    EDITOR_IN_CHARGE,
    EDITOR,
    DISCLAIMER,
    DISCLAIMER_SENTENCE,
    COPYRIGHT,
    FOOTER,
    LOGIN,
    TOOLBAR,
    COMMENTS,
    APP_PROMO,
    FOLLOW_PROMO,
    RELATED,
    PHOTO_CREDIT,
    KEYWORDS,
    DATABASE_PROMO,
    PRINT_EDITION,
    END_MARK,
)
