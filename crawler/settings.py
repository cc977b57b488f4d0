"""Scrapy settings for caixun. Every key here can be overridden with -s KEY=VALUE."""

BOT_NAME = "caixun"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# --- Politeness -------------------------------------------------------------
ROBOTSTXT_OBEY = True
# Say who you are: set a contact (URL or e-mail) with -s USER_AGENT="caixun/0.1 (+you@example.org)".
USER_AGENT = "caixun/0.1 (financial news archiver; Scrapy)"
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
# Plain priority order, so a roll page's articles (priority 1) go before the next roll page: Scrapy's
# default per-host queue would serve the idle roll-API host first and let discovery run thousands of
# requests ahead of the downloads (the soak benchmark measured ~25,000 queued, +66 MiB).
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
}

# --- Bans (HTTP 456, a site's ban page): stop that site, never retry into a ban -------
CAIXUN_BAN_HTTP_CODES = [456]
# The sites declare their ban pages (SiteRule.politeness.ban_pages: Sina's "IP 存在异常访问"); patterns
# given here are added. A small page matching any of them is a ban page, whichever site it comes from.
CAIXUN_BAN_TEXT_PATTERNS = []

# --- Storage ----------------------------------------------------------------
# DATABASE_URL: a sqlite:// or postgresql:// URL; empty means $DATABASE_URL, else sqlite:///data/caixun.db
DATABASE_URL = ""
# Seconds one database transaction (a page stored, a fetch recorded) may take before the database counts as
# unreachable (spool, exit 5); also each statement's timeout, and on PostgreSQL the connect timeout when under
# 10 s. A server that stops answering is noticed 1 s past it (crawler/store.py). 0: no limit.
CAIXUN_DATABASE_TIMEOUT = 30

# --- Discovery ----------------------------------------------------------------
CAIXUN_ROLL_API_URL = "https://feed.mix.sina.com.cn/api/roll/get"
# List answers are untrusted (crawler/listing.py): entries read from one answer, and how far ahead of our
# clock a listed time may be before it is ignored (a future time must never become a watermark).
CAIXUN_MAX_LIST_ITEMS = 500
CAIXUN_LIST_TIME_SKEW = 3600

# --- Scheduled runs (python -m crawler run) ----------------------------------
CAIXUN_INCREMENTAL = True  # skip stored articles the roll API has not changed; stop paging at the watermark
CAIXUN_RETRY_FAILED_RUNS = 3  # runs in a row a failed page is tried again
CAIXUN_SPOOL_DIR = ""  # where pages wait while the database is unreachable; empty: data/spool
CAIXUN_DATABASE_RETRY_SECONDS = 30
# a run under these shares of articles with the field fails (exit 4); judged from 10 articles up
CAIXUN_COVERAGE_THRESHOLDS = {"title": 0.99, "body": 0.99, "published_at": 0.95}
CAIXUN_COVERAGE_MIN_ARTICLES = 10
# python -m crawler run: after each run, write the crawl health report (storage.report) to this HTML file,
# atomically (a part file renamed over it); empty: no report
CAIXUN_REPORT = ""
# CAIXUN_LOCK_DIR: where SQLite databases' run locks live; empty: next to the database file
CAIXUN_LOCK_DIR = ""

# --- Extraction (extractors/limits.py, extractors/sandbox.py) -------------------
# Pages are extracted in worker processes; a page over a limit is stored as failed, error "extract_<reason>: …".
# Defaults leave a wide margin over the real pages (largest 905 KB, 7,941 start tags, 0.7 s, +62 MiB).
CAIXUN_EXTRACT_WORKERS = 0  # worker processes; 0: one per core
CAIXUN_EXTRACT_MAX_BYTES = 8 * 1024 * 1024  # larger pages are refused before parsing (extract_too_large)
CAIXUN_EXTRACT_MAX_ELEMENTS = 100_000  # pages with more start tags are refused before parsing (extract_too_many_elements)
CAIXUN_EXTRACT_TIMEOUT = 30  # seconds one page may take; the worker is then killed and replaced (extract_timeout)
CAIXUN_EXTRACT_MEMORY_MB = 1024  # address space of a worker, MiB (extract_memory); an idle worker holds ~55

# --- Distributed mode (crawler/frontier/, python -m crawler worker) ---------------------
# CAIXUN_FRONTIER: a redis:// URL: workers on any number of machines share its queue and one database; empty: off
CAIXUN_FRONTIER = ""
CAIXUN_FRONTIER_KEY = ""  # prefix of the frontier's Redis keys; empty: caixun:<spider>
CAIXUN_LEASE_SECONDS = 300  # a request a dead worker had taken is queued again this long after its last renewal
CAIXUN_DISCOVERY_INTERVAL = 300  # seconds between the ends of discovery rounds (one worker at a time discovers)
CAIXUN_EXIT_WHEN_IDLE = ""  # seconds the whole frontier must be empty before a worker exits; empty: never (a daemon)
CAIXUN_FRONTIER_LOW_WATER = 100  # the discovery holder reads its next list page when fewer requests are queued
CAIXUN_REDIS_TIMEOUT = 10  # seconds a Redis command may take before the frontier counts as gone (exit 6)

# --- WARC -------------------------------------------------------------------
# REPLAY_WARC: comma-separated WARC files that answer every request instead of the network.
REPLAY_WARC = ""
# WARC_DIR: folder where every fetched response is archived (gzip WARC, one file per run).
WARC_DIR = ""
CAIXUN_WARC_MAX_BYTES = 1024**3  # start a new file past this size

# --- Components -------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.ban.BanMiddleware": 560,  # sees responses before RetryMiddleware (550)
    "crawler.middlewares.warc_replay.WarcReplayMiddleware": 950,
    "crawler.middlewares.warc_writer.WarcWriterMiddleware": 960,
}
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.incremental.IncrementalMiddleware": 800,
}
EXTENSIONS = {
    "crawler.extensions.provenance.ProvenanceExtension": 500,
}
ADDONS = {
    "crawler.frontier.addon.FrontierAddon": 0,  # only with CAIXUN_FRONTIER set
}
ITEM_PIPELINES = {
    "crawler.pipelines.ArticlePipeline": 300,
}

# Unattended crawls open no debugging ports.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
