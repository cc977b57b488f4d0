"""sina_finance: the news spider on Sina's roll API alone (or on URLs), with the arguments it always had.

Arguments (-a NAME=VALUE): SinaFinanceSpider.ARGUMENTS; any other name is refused (exit 1).

Everything else (settings, stats, untrusted listings, the exit 1 of a channel whose first page
gives nothing) is crawler.spiders.news's; `scrapy crawl news -a sites=sina` sweeps the same channels.
"""

from __future__ import annotations

from crawler.rollapi import parse_channels
from crawler.spiders.news import NewsSpider
from extractors.rules import SiteRule
from extractors.sources import RollApi, Source


class SinaFinanceSpider(NewsSpider):
    name = "sina_finance"
    ARGUMENTS = {
        "channels": "pageid:lid pairs, comma-separated (default: the finance channels of extractors/sites/sina.py)",
        "max_pages": "roll-API pages per channel (default 1; 100 when since is given)",
        "since": NewsSpider.ARGUMENTS["since"],
        "urls": "article URLs, comma-separated; with urls or url_file, the roll API is only read when "
                "channels is given too",
        "url_file": NewsSpider.ARGUMENTS["url_file"],
    }

    @staticmethod
    def planned_sites(**_) -> list[str]:
        return ["sina"]

    def __init__(
        self,
        channels: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        urls: str | None = None,
        url_file: str | None = None,
        **unknown,
    ) -> None:
        type(self).check_arguments(unknown)
        self.channels = parse_channels(channels) if channels else None
        sweep = bool(channels) or not (urls or url_file)
        super().__init__(sites="sina" if sweep else None, max_pages=max_pages, since=since, urls=urls,
                         url_file=url_file)  # fmt: skip
        self.crawl_sites = self.arguments["crawl_sites"] = self.planned_sites()  # direct URLs too: Sina's lock
        self.arguments.pop("sites", None)
        if channels is not None:
            self.arguments = {"channels": channels, **self.arguments}

    def sources_of(self, rule: SiteRule) -> tuple[Source, ...]:
        if self.channels is None:
            return super().sources_of(rule)
        return (RollApi(tuple(self.channels)),)
