"""Rebuild examples/demo.warc.gz, the archive `python -m crawler demo` replays.

  .venv/bin/python examples/build_demo_archive.py [--out FILE]

Input: the recorded pages under tests/fixtures/ (each with its sidecar JSON: the page's URL and what a
correct extraction gives) and each site's list fixture there (tests/fixtures/<site>/list_source_*).

What goes in, all answered with HTTP 200:
- for every site with a discovery source and recorded article pages of its own (sina, netease, ifeng,
  qq, stcn, thepaper): up to PAGES_PER_SITE of those pages, at their real URLs, and the answer to each
  first request of the site's source, built from the site's list fixture as a template (its shape,
  its other fields) so that it lists exactly those pages; Sina's ten roll channels list one page each,
  in turn; qq's sitemap index names one sitemap;
- for every site whose pages are recorded but which has no source (sohu, sina_tw, yahoo_cn, yahoo_hk,
  mingridapan), and for pages of hosts no site rule handles (stored under the site name "generic"):
  their pages, and one RSS feed at crawler.demo.FEED_URL (a reserved .invalid host) listing them.
A site with no recorded article page of its own (eastmoney, yicai) is left out: no page stands in for
another site's. A page goes in only if it is one its site rule takes for an article and the extractors
give it the title and the publication time its sidecar expects (so the demo shows pages read correctly);
the smallest such pages are taken, to keep the archive small.

Listed times are fixed (LISTED_AT, counting back a minute per entry) and the WARC records carry fixed
dates and ids, so a rebuild gives the same records: tests/test_demo.py checks that the shipped archive
holds exactly what this script writes.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import json
import re
import sys
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from io import BytesIO
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:  # run as a script: examples/ is sys.path[0]
    sys.path.insert(0, str(PROJECT_DIR))

from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from crawler.demo import DEFAULT_ARCHIVE, FEED_URL  # noqa: E402
from crawler.rollapi import roll_api_url  # noqa: E402
from crawler.sources import first_url  # noqa: E402
from extractors import NotAnArticle, Page, extract, rule_for, rule_named  # noqa: E402

FIXTURES = PROJECT_DIR / "tests" / "fixtures"
PAGES_PER_SITE = 2
GENERIC_PAGES = 3  # pages of hosts no rule handles
LISTED_AT = datetime(2024, 5, 10, 6, 40, tzinfo=timezone.utc)  # 14:40 China time, as the list fixtures
RECORDED_AT = "2024-05-10T06:40:00Z"  # the WARC-Date of every record
CHINA = timezone(timedelta(hours=8))
JSON = "application/json; charset=utf-8"
XML = "application/xml; charset=utf-8"


class Recorded:
    """A recorded page of tests/fixtures and its sidecar."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.meta = json.loads(path.with_name(path.name.removesuffix(".html.gz") + ".json").read_text("utf-8"))
        self.url: str = self.meta["url"]
        self.body = gzip.decompress(path.read_bytes())
        self.title: str = self.meta["expected"]["title"]
        rule = rule_for(self.url)
        self.site = rule.name if rule else "generic"

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    def read_correctly(self) -> bool:
        """The site rule takes the URL for an article, and the extractors give the expected title and time."""
        rule = rule_for(self.url)
        if rule is not None and rule.classify_url(self.url) != "article":
            return False
        try:
            article = extract(Page(url=self.url, body=self.body))
        except NotAnArticle:
            return False
        expected = self.meta["expected"]
        published = article.published_at.isoformat() if article.published_at else None
        return (article.site == self.site and article.title == self.title and bool(article.body)
                and published is not None and _same_time(published, expected.get("published_at")))  # fmt: skip


def _same_time(got: str, want: str | None) -> bool:
    if not want:
        return False
    if len(want) == 10:
        return got[:10] == want
    return datetime.fromisoformat(got) == datetime.fromisoformat(want)


def recorded_pages() -> dict[str, list[Recorded]]:
    """{site: its chosen pages}, "generic" for hosts no rule handles; the smallest correct pages first."""
    by_url: dict[str, Recorded] = {}
    for path in sorted(FIXTURES.glob("*/*.html.gz")):
        sidecar = path.with_name(path.name.removesuffix(".html.gz") + ".json")
        if not sidecar.exists() or json.loads(sidecar.read_text("utf-8")).get("kind") != "article":
            continue
        page = Recorded(path)
        if page.url not in by_url and page.read_correctly():  # one recording per URL
            by_url[page.url] = page
    chosen: dict[str, list[Recorded]] = {}
    for page in sorted(by_url.values(), key=lambda p: (p.path.stat().st_size, p.name)):
        limit = GENERIC_PAGES if page.site == "generic" else PAGES_PER_SITE
        hosts = {_host(p.url) for p in chosen.get(page.site, [])}
        if len(chosen.get(page.site, [])) < limit and (page.site != "generic" or _host(page.url) not in hosts):
            chosen.setdefault(page.site, []).append(page)
    return dict(sorted(chosen.items()))


def _host(url: str) -> str:
    return re.sub(r"^https?://([^/]+).*", r"\1", url)


def _list_fixture(directory: str, stem: str) -> bytes:
    return gzip.decompress((FIXTURES / directory / f"list_source_{stem}.html.gz").read_bytes())


def _at(n: int) -> datetime:
    return LISTED_AT - timedelta(minutes=n)


def _items_like(template: list[dict], pages: list[Recorded], fill) -> list[dict]:
    """Entries in the shape of the template's first entry, one per page, filled in by fill(entry, page, n)."""
    entries = []
    for n, page in enumerate(pages):
        entry = copy.deepcopy(template[0])
        fill(entry, page, n)
        entries.append(entry)
    return entries


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def sina_answers(pages: list[Recorded]) -> list[tuple[str, str, bytes]]:
    """Each roll channel's first page lists one of the pages, in turn (every channel lists something:
    a channel whose first page lists nothing fails the run, as it would live)."""
    answer = json.loads(_list_fixture("sina", "roll_153_2516"))

    def fill(entry: dict, page: Recorded, n: int) -> None:
        stamp = str(int(_at(n).timestamp()))
        entry.update(docid=f"comos:demo{n}", title=page.title, url=page.url, ctime=stamp, mtime=stamp, intime=stamp)

    template = answer["result"]["data"]
    entries = _items_like(template, pages, fill)
    answers = []
    for k, (pageid, lid) in enumerate(rule_named("sina").sources[0].channels):
        channel = copy.deepcopy(answer)
        channel["result"]["data"] = [entries[k % len(entries)]]
        answers.append((roll_api_url(pageid, lid, 1), JSON, _json(channel)))
    return answers


def netease_answers(pages: list[Recorded]) -> list[tuple[str, str, bytes]]:
    text = _list_fixture("163", "news_flow_index").decode("gbk")
    template = json.loads(text[text.index("(") + 1 : text.rindex(")")])

    def fill(entry: dict, page: Recorded, n: int) -> None:
        when = _at(n).astimezone(CHINA).strftime("%m/%d/%Y %H:%M:%S")
        entry.update(title=page.title, docurl=page.url, tlink=page.url, time=when)

    body = f"data_callback({json.dumps(_items_like(template, pages, fill), ensure_ascii=False, indent=1)})"
    return [(first_url(rule_named("netease").sources[0]), "application/javascript; charset=gbk", body.encode("gbk"))]


def stcn_answers(pages: list[Recorded]) -> list[tuple[str, str, bytes]]:
    answer = json.loads(_list_fixture("stcn", "kx"))

    def fill(entry: dict, page: Recorded, n: int) -> None:
        entry.update(id=int(re.sub(r"\D", "", page.url)[-8:]), title=page.title, content=page.title,
                     time=int(_at(n).timestamp()), url=page.url)  # fmt: skip

    answer["data"] = _items_like(answer["data"], pages, fill)
    answer["page_time"] = int(_at(len(pages) - 1).timestamp())
    return [(first_url(rule_named("stcn").sources[0]), JSON, _json(answer))]


def thepaper_answers(pages: list[Recorded]) -> list[tuple[str, str, bytes]]:
    answer = json.loads(_list_fixture("thepaper", "channel_25951"))

    def fill(entry: dict, page: Recorded, n: int) -> None:  # the source builds the URL from contId
        entry.update(contId=page.url.rsplit("_", 1)[1], name=page.title, pubTimeLong=int(_at(n).timestamp()) * 1000)

    answer["data"]["list"] = _items_like(answer["data"]["list"], pages, fill)
    answer["data"]["hasNext"] = False
    answer["data"]["startTime"] = int(_at(len(pages) - 1).timestamp()) * 1000
    return [(first_url(rule_named("thepaper").sources[0]), JSON, _json(answer))]


def ifeng_answers(pages: list[Recorded]) -> list[tuple[str, str, bytes]]:
    """The list page with its links and its embedded "newsstream" replaced by the pages (the ad entry goes)."""
    html = _list_fixture("ifeng", "shanklist_1_62").decode("utf-8")
    start = html.index('"newsstream":') + len('"newsstream":')
    template, length = json.JSONDecoder().raw_decode(html[start:])
    end = start + length

    def fill(entry: dict, page: Recorded, n: int) -> None:
        entry.update(id=f"7{page.url.rsplit('/', 1)[1]}", title=page.title, url=page.url,
                     newsTime=_at(n).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"))  # fmt: skip

    stream = json.dumps(_items_like(template, pages, fill), ensure_ascii=False)
    links = "".join(f'<li><a href="{escape(p.url)}">{escape(p.title)}</a></li>' for p in pages)
    html = html[:start] + stream + html[end:]
    html = re.sub(r'(<ul class="news-stream-basic-news-list">).*?(</ul>)', lambda m: m.group(1) + links + m.group(2),
                  html)  # fmt: skip
    return [(first_url(rule_named("ifeng").sources[0]), "text/html; charset=utf-8", html.encode("utf-8"))]


def qq_answers(pages: list[Recorded]) -> list[tuple[str, str, bytes]]:
    """The sitemap index names one sitemap (the fixture's first), which lists the pages."""
    index = _list_fixture("qq", "sitemap_index").decode("utf-8")
    child = re.search(r"<loc>([^<]+)</loc>", index).group(1)
    entries = r"\s*<sitemap>(?:(?!</sitemap>).)*</sitemap>"
    index = re.sub(entries, lambda m: m.group(0) if f"<loc>{child}</loc>" in m.group(0) else "", index, flags=re.S)
    urlset = _list_fixture("qq", "sitemap_20240510").decode("utf-8")
    entry = re.search(r"[ \t]*<url>.*?</url>\n", urlset).group(0)
    entries = "".join(
        re.sub(r"<lastmod>[^<]*</lastmod>", f"<lastmod>{_at(n).astimezone(CHINA).isoformat()}</lastmod>",
               re.sub(r"<loc>[^<]*</loc>", f"<loc>{escape(p.url)}</loc>", entry))
        for n, p in enumerate(pages)
    )  # fmt: skip
    urlset = re.sub(r"(?s)[ \t]*<url>.*</url>\n", lambda m: entries, urlset)
    return [(first_url(rule_named("qq").sources[0]), XML, index.encode()), (child, XML, urlset.encode())]


LIST_ANSWERS = {
    "sina": sina_answers,
    "netease": netease_answers,
    "stcn": stcn_answers,
    "thepaper": thepaper_answers,
    "ifeng": ifeng_answers,
    "qq": qq_answers,
}


def demo_feed(pages: list[Recorded]) -> bytes:
    """An RSS 2.0 feed of the pages (newest first), at FEED_URL."""
    items = "".join(
        f"<item><title>{escape(p.title)}</title><link>{escape(p.url)}</link>"
        f"<pubDate>{format_datetime(_at(n))}</pubDate></item>"
        for n, p in enumerate(pages)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>caixun demo feed</title>'
        f"<link>{escape(FEED_URL)}</link><description>recorded pages of sites that declare no list source"
        f"</description>{items}</channel></rss>\n"
    ).encode()


def archive_records() -> list[tuple[str, str, bytes]]:
    """(url, content type, body) of every response in the archive, in order: lists first, then pages."""
    chosen = recorded_pages()
    unknown = [s for s in chosen if s != "generic" and rule_named(s).sources and s not in LIST_ANSWERS]
    if unknown:
        raise SystemExit(f"recorded pages of {', '.join(unknown)}, whose list answer this script cannot build yet")
    records = []
    fed = []
    for site, pages in chosen.items():
        if site in LIST_ANSWERS:
            records += LIST_ANSWERS[site](pages)
        else:
            fed += pages
    records.append((FEED_URL, "application/rss+xml; charset=utf-8", demo_feed(fed)))
    for pages in chosen.values():
        records += [(p.url, _page_type(p), p.body) for p in pages]
    return records


def _page_type(page: Recorded) -> str:
    charset = page.meta.get("declared_charset")
    return f"text/html; charset={charset}" if charset else "text/html"


def write_archive(path: Path, records: list[tuple[str, str, bytes]]) -> None:
    """A gzip WARC of `response` records with fixed dates and ids (from the URL), so a rebuild is the same."""
    part = path.with_name(path.name + ".part")
    with part.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, content_type, body in records:
            http_headers = StatusAndHeaders(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
            )
            record_id = uuid.UUID(hashlib.sha256(url.encode()).hexdigest()[:32])
            warc_headers = {"WARC-Record-ID": f"<urn:uuid:{record_id}>", "WARC-Date": RECORDED_AT}
            record = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http_headers,
                                               warc_headers_dict=warc_headers)  # fmt: skip
            writer.write_record(record)
    part.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_ARCHIVE,
                        help=f"default {DEFAULT_ARCHIVE.relative_to(PROJECT_DIR)}")  # fmt: skip
    args = parser.parse_args(argv)
    records = archive_records()
    write_archive(args.out, records)
    sites = sorted({rule_for(url).name if rule_for(url) else "generic" for url, _, _ in records if url != FEED_URL})
    print(f"wrote {args.out}: {len(records)} responses, {args.out.stat().st_size:,} bytes; sites: {', '.join(sites)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
