"""news: discover articles through the sites' declared sources (or feeds and URLs you name), fetch them.

Arguments (-a NAME=VALUE): NewsSpider.ARGUMENTS (python -m crawler run --help lists them). Any other
name is refused before anything starts (ValueError naming it: `scrapy crawl` exits 1).

Sources are data (extractors/sources.py, declared by each site in extractors/sites/) and their
answers are read by crawler/sources/. The spider only discovers and fetches: it yields
FetchedPage items (also for 304, 404 and 410 answers) and FetchFailed items (errors after
retries); crawler.pipelines.ArticlePipeline extracts and stores them, and skipping what is
already stored is crawler.middlewares.incremental's job.

Every request carries its site (meta caixun_site: the declaring site for list requests, the
rule for the URL's host for articles, else the host; stats name a host `generic`,
crawler.sites.reported_site) and uses one download slot per site, with
the site's delay, concurrency and headers (SiteRule.politeness). A ban stops that site only
(crawler.middlewares.ban).

List answers are untrusted (crawler.listing): bad entries cost themselves, bad times are ignored,
entries past CAIXUN_MAX_LIST_ITEMS are not read; one warning line says what was wrong. A source
whose first page is unusable, empty or lists no usable item fails the run (exit 1): sources always
list articles, so that is an outage, a block, or an endpoint that moved.

Settings read: CAIXUN_ROLL_API_URL (Sina's roll API; tests point it elsewhere),
CAIXUN_MAX_LIST_ITEMS (entries read from one list answer, default 500),
CAIXUN_LIST_TIME_SKEW (seconds a listed time may lie ahead of our clock, default 3600),
DOWNLOAD_SLOTS (a site's slot is its name; entries given here win over the site's own).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from difflib import get_close_matches
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES
from twisted.python.failure import Failure

from crawler.fetcherrors import failure_message, failure_reason
from crawler.items import LIST_META, FetchedPage, FetchFailed, requested_url
from crawler.listing import list_time_skew
from crawler.rollapi import ROLL_API, channel_name, roll_api_url
from crawler.sites import SITE_META, download_slots, reported_site, site_of, sites_named
from crawler.sources import ListPage, SourceError, first_urls, parse
from crawler.sources.model import MAX_ITEMS
from crawler.store import mark_run_failed
from extractors.dates import CHINA_TZ
from extractors.registry import all_rules, rule_for
from extractors.rules import SiteRule
from extractors.sources import Feed, RollApi, Sitemap, Source

# answers an article request hands to the pipeline rather than to the errback
ARTICLE_STATUSES = [304, 404, 410]
ARTICLE_PRIORITY = 1  # a list page's articles before the next list page: the queue stays one page deep


@dataclass(frozen=True)
class Sweep:
    """One list to page through: a site's source (a roll channel, a followed sitemap) or a named feed."""

    site: str
    source: Source
    key: str  # the crawl state's source key (storage.crawlstate watermarks)
    label: str  # how log lines name it: "roll API 153:2516", "eastmoney jsonlist:350"
    user_feed: bool = False  # named with -a feeds=: a feed or a sitemap, whichever the answer is

    @property
    def roll(self) -> bool:
        return isinstance(self.source, RollApi)


def planned_sites(sites: str | None = None, urls: str | None = None, url_file: str | None = None,
                  feeds: str | None = None, **_) -> list[str]:  # fmt: skip
    """What a run with these arguments crawls, as lock and run-record names: the swept sites, the sites of
    the URLs given, and "feed <url>" per named feed. Raises ValueError for bad arguments."""
    direct, feed_urls = _direct_urls(urls, url_file), _urls(feeds, "feeds")
    return _lock_names(_swept(sites, direct, feed_urls), direct, feed_urls)


def _lock_names(swept: list[SiteRule], direct: list[str], feeds: list[str]) -> list[str]:
    return list(dict.fromkeys([*(r.name for r in swept), *(site_of(u) for u in direct), *(f"feed {u}" for u in feeds)]))


def _swept(sites: str | None, direct: list[str], feeds: list[str]) -> list[SiteRule]:
    """The sites whose sources are swept: those named, else all of them unless URLs or feeds were given."""
    return sites_named(sites) if sites or not (direct or feeds) else []


class NewsSpider(scrapy.Spider):
    name = "news"
    planned_sites = staticmethod(planned_sites)  # python -m crawler run takes a lock per name
    # the -a arguments the spider takes, and what each does (python -m crawler run --help shows them)
    ARGUMENTS = {
        "sites": "site names, comma-separated (default: every site that declares sources; with urls, "
                 "url_file or feeds, none unless given)",
        "feeds": "RSS/Atom feed or sitemap URLs, comma-separated: their items are fetched and extracted by "
                 "the rule for their host, or the generic path",
        "max_pages": "list pages read per source, and sitemaps followed per sitemap index (default 1; 100 "
                     "when since is given)",
        "since": "YYYY-MM-DD (China time): skip older items, stop paging at a page of only older ones",
        "urls": "article URLs, comma-separated",
        "url_file": "a file of article URLs, one per line (lines starting with # are comments)",
    }  # fmt: skip

    @classmethod
    def check_arguments(cls, names) -> None:
        """ValueError naming the -a names this spider does not take, and listing those it does."""
        unknown = [name for name in names if name not in cls.ARGUMENTS]
        if not unknown:
            return
        hints = [f" (did you mean {close[0]}?)" if (close := get_close_matches(name, cls.ARGUMENTS, 1)) else ""
                 for name in unknown]  # fmt: skip
        named = ", ".join(f"{name!r}{hint}" for name, hint in zip(unknown, hints))
        raise ValueError(f"the {cls.name} spider takes no argument {named}; "
                         f"its arguments (-a NAME=VALUE): {', '.join(cls.ARGUMENTS)}")  # fmt: skip

    def __init__(
        self,
        sites: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        urls: str | None = None,
        url_file: str | None = None,
        feeds: str | None = None,
        **unknown,
    ) -> None:
        type(self).check_arguments(unknown)  # Scrapy would set any -a name as an attribute, silently
        super().__init__()
        given = dict(sites=sites, feeds=feeds, max_pages=max_pages, since=since, urls=urls, url_file=url_file)
        self.arguments = {k: v for k, v in given.items() if v is not None}  # as given, for the crawl_runs record
        self.since = _parse_since(since) if since else None
        self.direct_urls = _direct_urls(urls, url_file)
        self.feed_urls = _urls(feeds, "feeds")
        swept = _swept(sites, self.direct_urls, self.feed_urls)
        self.sweeps = [sweep for rule in swept for sweep in self.site_sweeps(rule)]
        self.sweeps += [Sweep(site_of(u), Feed(u), u, f"feed {u}", user_feed=True) for u in self.feed_urls]
        self.crawl_sites = _lock_names(swept, self.direct_urls, self.feed_urls)  # what planned_sites gives
        self.arguments["crawl_sites"] = self.crawl_sites  # which run locks the run held (storage.provenance)
        default_pages = 100 if self.since else 1
        try:
            self.max_pages = int(max_pages) if max_pages is not None else default_pages
        except ValueError:
            raise ValueError(f"max_pages must be a whole number, got {max_pages!r}") from None
        if self.max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {self.max_pages}")
        self.failed_sources: dict[tuple[str, str], str] = {}  # (site, source key) → why its first page gave nothing
        self.said_unusable: set[str] = set()  # the errors of unusable list pages logged at ERROR so far

    def sources_of(self, rule: SiteRule) -> tuple[Source, ...]:
        """The sources swept for a site: those it declares."""
        return rule.sources

    def site_sweeps(self, rule: SiteRule) -> list[Sweep]:
        """The lists a site's sources give: one per roll channel, else one per source."""
        sweeps = []
        for source in self.sources_of(rule):
            if isinstance(source, RollApi):
                sweeps += [
                    Sweep(rule.name, RollApi(((p, l),)), RollApi.channel_key(p, l), f"roll API {channel_name(p, l)}")
                    for p, l in source.channels
                ]
            else:
                sweeps.append(Sweep(rule.name, source, source.key, f"{rule.name} {source.key}"))
        return sweeps

    @classmethod
    def update_settings(cls, settings) -> None:
        """The sites' own delay and concurrency as DOWNLOAD_SLOTS entries; the user's entries win."""
        super().update_settings(settings)
        slots = download_slots(list(all_rules()), settings.getdict("DOWNLOAD_SLOTS"))
        priority = max(settings.getpriority("DOWNLOAD_SLOTS") or 0, SETTINGS_PRIORITIES["spider"])
        settings.set("DOWNLOAD_SLOTS", slots, priority=priority)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_list_items = crawler.settings.getint("CAIXUN_MAX_LIST_ITEMS", MAX_ITEMS)
        if spider.max_list_items < 1:
            raise ValueError(f"CAIXUN_MAX_LIST_ITEMS must be at least 1, got {spider.max_list_items}")
        spider.time_skew = list_time_skew(crawler.settings)
        spider.fixed_delay = {k for k, v in crawler.settings.getdict("DOWNLOAD_SLOTS").items() if "delay" in v}
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    def _request_dropped(self, request: scrapy.Request) -> None:
        """A redirect to a URL already requested (a loop A → B → A) is dropped by the duplicate
        filter without any errback, so the page would get no outcome at all. Send it once more past
        the filter: a loop then ends at REDIRECT_MAX_TIMES in article_failed (too_many_redirects)."""
        if request.meta.get("redirect_urls") and not request.dont_filter and request.callback == self.parse_article:
            self.crawler.engine.crawl(request.replace(dont_filter=True))

    # --- requests ---------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.direct_urls:
            yield self.article_request(url, discovered_from="argument:urls", discovery={})
        for sweep in self.sweeps:
            for url in self._first_urls(sweep):
                yield self.list_request(sweep, url, 1)

    def _first_urls(self, sweep: Sweep) -> list[str]:
        if sweep.roll:
            base = self.settings.get("CAIXUN_ROLL_API_URL") or ROLL_API
            return [roll_api_url(p, l, 1, base) for p, l in sweep.source.channels]
        return first_urls(sweep.source)

    def _site_meta(self, site: str) -> tuple[dict, dict]:
        """(meta, headers) every request of `site` carries: its site, its slot, its politeness headers."""
        rule = next((r for r in all_rules() if r.name == site), None)
        meta = {SITE_META: site}
        if rule is None:
            return meta, {}
        meta["download_slot"] = site
        if site in self.fixed_delay:  # a declared delay is the site's pace: AutoThrottle leaves it as it is
            meta["autothrottle_dont_adjust_delay"] = True
        return meta, dict(rule.politeness.headers)

    def list_request(self, sweep: Sweep, url: str, page: int) -> scrapy.Request:
        meta, headers = self._site_meta(sweep.site)
        source = sweep.source
        headers.update(getattr(source, "headers", ()))
        return scrapy.Request(
            url,
            method=getattr(source, "method", "GET"),
            body=getattr(source, "body", None),
            headers=headers,
            callback=self.parse_list,
            errback=self.list_failed,
            cb_kwargs={"sweep": sweep, "page": page},
            meta={**meta, LIST_META: {"label": sweep.label, "page": page,
                                      "site": sweep.site, "source": sweep.key}},
        )  # fmt: skip

    def article_request(self, url: str, discovered_from: str, discovery: dict) -> scrapy.Request:
        meta, headers = self._site_meta(site_of(url))
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.parse_article,
            errback=self.article_failed,
            cb_kwargs={"discovered_from": discovered_from, "discovery": discovery},
            meta={**meta, "handle_httpstatus_list": ARTICLE_STATUSES},
            priority=ARTICLE_PRIORITY,
        )

    # --- list pages -------------------------------------------------------------------------------

    def _stat(self, sweep: Sweep, what: str, count: int = 1) -> None:
        """caixun/roll/<what> or caixun/list/<what>, and the same per site (a feed's host: generic)."""
        kind = "roll" if sweep.roll else "list"
        self.crawler.stats.inc_value(f"caixun/{kind}/{what}", count)
        self.crawler.stats.inc_value(f"caixun/site/{reported_site(sweep.site)}/{kind}/{what}", count)

    def _banned(self, site: str) -> bool:
        return site in (self.crawler.stats.get_value("caixun/ban/sites") or ())

    def _list_unusable(self, sweep: Sweep, page: int, why: str) -> None:
        if self._banned(sweep.site):
            return  # the ban is reported on its own
        self._stat(sweep, "error")
        # an outage fails every source alike: the error is said once at ERROR, its repeats at INFO
        level = logging.INFO if why in self.said_unusable else logging.ERROR
        self.said_unusable.add(why)
        self.logger.log(level, "%s page %d unusable, paging stops: %s", sweep.label, page, why)
        if page == 1 and sweep in self.sweeps:  # not a sitemap an index names: the index was read
            self.failed_sources[(sweep.site, sweep.key)] = why

    def list_failed(self, failure: Failure) -> None:
        kwargs = failure.request.cb_kwargs
        self._list_unusable(kwargs["sweep"], kwargs["page"], failure_message(failure))

    def _parse_answer(self, sweep: Sweep, response: Response) -> ListPage:
        rule = rule_for(response.url)
        checks = dict(max_items=self.max_list_items, skew=self.time_skew, tz=rule.timezone if rule else CHINA_TZ)
        article_urls = rule.article_urls if rule else ()
        try:
            return parse(sweep.source, response.body, response.url, article_urls, **checks)
        except SourceError:
            if not sweep.user_feed:
                raise
        try:  # a named feed may be a sitemap (or a sitemap index) instead
            return parse(Sitemap(sweep.source.url), response.body, response.url, article_urls, **checks)
        except SourceError as exc:
            raise SourceError(f"neither an RSS/Atom feed nor a sitemap ({exc})") from None

    def parse_list(self, response: Response, sweep: Sweep, page: int) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        try:
            listed = self._parse_answer(sweep, response)
        except SourceError as exc:
            self._list_unusable(sweep, page, str(exc))
            return
        self._stat(sweep, "pages")
        self._count_untrusted(sweep, page, listed)
        # a sitemap index: each sitemap is a list of its own; max_pages of them, the most recently changed
        for child in listed.follow[: self.max_pages]:
            yield self.list_request(Sweep(sweep.site, Sitemap(child), child, f"{sweep.site} sitemap {child}"), child, 1)
        if len(listed.follow) > self.max_pages:
            stats.inc_value("caixun/discover/sitemaps_not_followed", len(listed.follow) - self.max_pages)
        if not listed.items:
            if listed.follow:
                return
            why = f"has no usable item ({listed.problems[0]}; …)" if listed.problems else "is empty"
            self.logger.info("%s page %d %s, paging stops", sweep.label, page, why)
            if page == 1 and sweep in self.sweeps:  # a sitemap an index names may be empty
                self.failed_sources[(sweep.site, sweep.key)] = f"the first page {why}"
            return
        times = [item.position for item in listed.items if item.position]
        if times:  # for crawler.middlewares.incremental: where this page sits in the list
            response.meta[LIST_META].update(newest=max(times), oldest=min(times))
        newer = 0
        for item in listed.items:
            self._stat(sweep, "items")
            if self.since and item.position and item.position < self.since:
                stats.inc_value("caixun/discover/skipped/older")
                continue
            newer += 1
            kind = _kind(item.url)
            if kind != "article":
                stats.inc_value(f"caixun/discover/skipped/{kind}")
                continue
            try:
                request = self.article_request(item.url, discovered_from=response.url, discovery=item.discovery())
            except (ValueError, TypeError, UnicodeError) as exc:  # one item never costs the rest of its page
                stats.inc_value("caixun/discover/skipped/bad_item")
                self.logger.warning("%s page %d: item %r skipped: %s", sweep.label, page, item.url[:200], exc)
                continue
            stats.inc_value("caixun/discover/article")
            yield request
        if newer == 0:
            self.logger.info("%s page %d: all items older than since, paging stops", sweep.label, page)
        elif listed.next_url and page < self.max_pages:
            yield self.list_request(sweep, listed.next_url, page + 1)

    def _count_untrusted(self, sweep: Sweep, page: int, listed: ListPage) -> None:
        """Stats and one warning for what the page listed wrong (see crawler.listing)."""
        stats = self.crawler.stats
        problems = []
        if listed.bad_items:
            stats.inc_value("caixun/discover/skipped/bad_item", listed.bad_items)
            problems.append(f"{listed.bad_items} unusable item(s) skipped ({'; '.join(listed.item_problems[:3])})")
        if listed.bad_times:
            stats.inc_value("caixun/discover/bad_time", listed.bad_times)
            problems.append(f"{listed.bad_times} time(s) ignored ({'; '.join(listed.time_problems[:3])})")
        if listed.capped:
            stats.inc_value("caixun/discover/capped", listed.capped)
            problems.append(f"{listed.capped} item(s) past CAIXUN_MAX_LIST_ITEMS ({self.max_list_items}) not read")
        if listed.skipped:
            stats.inc_value("caixun/discover/skipped/excluded", listed.skipped)
        if listed.not_article:
            stats.inc_value("caixun/discover/skipped/other", listed.not_article)
        if problems:
            self.logger.warning("%s page %d: %s", sweep.label, page, "; ".join(problems))

    def closed(self, reason: str) -> None:
        failed = {key: why for key, why in self.failed_sources.items() if not self._banned(key[0])}
        if reason != "finished" or not failed:
            return
        labels = {(s.site, s.key): s.label for s in self.sweeps}
        stats = self.crawler.stats
        roll_only = all(s.roll for s in self.sweeps)  # Sina's words for Sina's lists
        noun, unit = ("roll-API page", "channel") if roll_only else ("list page", "source")
        reasons = _grouped(failed, labels, unit)
        if not (stats.get_value("caixun/roll/pages") or stats.get_value("caixun/list/pages")):
            message = (f"no {noun} could be read for {len(self.sweeps)} {unit}(s): check the network, "
                       f"or whether an endpoint moved ({reasons})")  # fmt: skip
        else:
            message = f"no articles from {unit}(s) that always list some: {reasons}"
        self.logger.error(message)
        mark_run_failed(stats, "discovery", message)

    # --- article pages ----------------------------------------------------------------------------

    def article_failed(self, failure: Failure) -> Iterator[FetchFailed]:
        request = failure.request
        response = getattr(failure.value, "response", None)
        kwargs = request.cb_kwargs or {}
        yield FetchFailed(
            url=requested_url(request),
            reason=failure_reason(failure),
            message=failure_message(failure),
            fetched_at=datetime.now(timezone.utc),
            status=response.status if response is not None else None,
            discovered_from=kwargs.get("discovered_from"),
            discovery=kwargs.get("discovery") or {},
            fetch_id=request.meta.get("caixun_fetch_id") if response is not None else None,
            site=request.meta.get(SITE_META),
        )

    def parse_article(self, response: Response, discovered_from: str, discovery: dict) -> Iterator[FetchedPage]:
        self.crawler.stats.inc_value("caixun/fetch/article_pages")
        request = response.request
        site = request.meta.get(SITE_META) if request else None
        if site:
            self.crawler.stats.inc_value(f"caixun/site/{reported_site(site)}/fetch/article_pages")
        yield FetchedPage(
            url=response.url,
            request_url=requested_url(request) if request else response.url,
            status=response.status,
            headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            body=response.body,
            fetched_at=datetime.now(timezone.utc),
            discovered_from=discovered_from,
            discovery=discovery,
            fetch_id=response.meta.get("caixun_fetch_id"),
            site=site,
        )


def _kind(url: str) -> str:
    """'article', a skip kind of the URL's rule ('video', …), or 'other' (never requested): a feed may list
    any host, and a URL no rule handles is taken for an article; only http(s) URLs are ever requested."""
    if not url.lower().startswith(("http://", "https://")):
        return "other"  # file:, ftp:, data:, javascript:, …
    rule = rule_for(url)
    return rule.classify_url(url) if rule else "article"


def _grouped(failed: dict[tuple[str, str], str], labels: dict[tuple[str, str], str], unit: str) -> str:
    """"153:2516: why; …", with an error many sources share said once: "10 channels (153:2516, …): why"."""
    by_why: dict[str, list[str]] = {}
    for key, why in failed.items():
        by_why.setdefault(why, []).append(_short(labels.get(key, key[1])))
    parts = []  # sorted by source, not by which failed first: the same failures read the same in every run
    for names, why in sorted((sorted(names), why) for why, names in by_why.items()):
        if len(names) == 1:
            parts.append(f"{names[0]}: {why}")
        else:
            shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
            parts.append(f"{len(names)} {unit}s ({shown}): {why}")
    return "; ".join(parts)


def _short(label: str) -> str:
    """"roll API 153:2516" → "153:2516", as sina_finance has always named its channels."""
    return label.removeprefix("roll API ")


def _parse_since(text: str) -> datetime:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"since must be a date as YYYY-MM-DD, got {text!r}") from None
    return day.replace(tzinfo=CHINA_TZ)


def _urls(text: str | None, what: str) -> list[str]:
    return _checked([u.strip() for u in (text or "").split(",") if u.strip()], what)


def _checked(urls: list[str], what: str) -> list[str]:
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{what}: not an http(s) URL: {url!r}")
        if urlsplit(url).password is not None:  # it would be stored in fetches and logged
            raise ValueError(f"{what}: URLs with a user:password@ part are not crawled; remove the credentials")
    return urls


def _direct_urls(urls: str | None, url_file: str | None) -> list[str]:
    found = [u.strip() for u in (urls or "").split(",") if u.strip()]
    if url_file:
        path = Path(url_file)
        if not path.is_file():
            raise ValueError(f"url_file {url_file!r} does not exist")
        for line in path.read_text(encoding="utf-8").splitlines():  # a line may hold a comma: one URL each
            if line.strip() and not line.strip().startswith("#"):
                found.append(line.strip())
    return _checked(found, "urls")
