"""Distributed mode: worker processes share a real Redis frontier and a real PostgreSQL.

Every test starts real `python -m crawler worker news` processes on a replay archive of an RSS feed
that lists 300 article pages (recorded pages of six sites, each under several URLs), and checks the
store, the fetch records and Redis afterwards, not the workers' own account of what they did.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from scrapy_redis import picklecompat
from sqlalchemy import select
from sqlalchemy.engine import make_url

from crawler import exitcodes
from storage import make_engine, session_factory
from storage.crawlstate import watermark
from storage.models import Fetch, StoredArticle
from tests.conftest import Frontier
from tests.helpers import PROJECT_DIR, _crawl_env, html_headers, rss_feed, run_crawler, unavailable, write_warc
from tests.relay import TcpRelay
from tests.test_news_crawl import _recorded

FEED_URL = "https://feeds.example.org/finance.xml"
PAGES = 300
# every worker's log lines carry the time to the microsecond: the discovery test compares them across processes
LOG_FORMAT = "%(created).6f [%(name)s] %(levelname)s: %(message)s"


def _variants(count: int, scheme: str | None = None) -> list[tuple[str, bytes]]:
    """`count` (url, body) pairs: recorded article pages, each under several URLs (?copy=n), the page's own
    URL in its body (its canonical link) rewritten to match, so that each is an article of its own."""
    pages = [p for site in ("sina", "163", "ifeng", "sohu", "qq", "thepaper") for p in _recorded(site, 20)]
    found = []
    for n in range(count):
        page = pages[n % len(pages)]
        url = page.url + ("&" if "?" in page.url else "?") + f"copy={n // len(pages)}"
        if scheme:
            url = scheme + url.split("://", 1)[1]
        found.append((url, page.body.replace(page.url.encode(), url.encode())))
    return found


NEWEST_ITEM = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)  # the feed's first item's pubDate


def _rss(urls: list[str]) -> bytes:
    return rss_feed([(str(n), url, NEWEST_ITEM - timedelta(minutes=n)) for n, url in enumerate(urls)])


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    pages = _variants(PAGES)
    records = [(FEED_URL, 200, [("Content-Type", "application/xml")], _rss([url for url, _ in pages]))]
    records += [(url, 200, html_headers(body), body) for url, body in pages]
    return write_warc(tmp_path_factory.mktemp("replay") / "feed.warc.gz", records)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    stdout: Path
    stderr: Path

    def wait(self, timeout: float = 240) -> int:
        return self.process.wait(timeout)

    @property
    def log(self) -> str:
        return self.stderr.read_text("utf-8", "replace")

    def stat(self, key: str) -> int:
        match = re.search(rf"'{re.escape(key)}': (\d+)", self.log)
        return int(match.group(1)) if match else 0


def start_worker(folder: Path, name: str, frontier, database_url: str, *extra: str, idle: str | None = "2",
                 feed: str = FEED_URL, env: dict | None = None, warc: Path | None = None) -> Worker:  # fmt: skip
    """`python -m crawler worker news` on the feed, with its own WARC (unless `warc` is given) and spool
    folders and log files."""
    own = folder / name
    own.mkdir(parents=True, exist_ok=True)
    warc = warc or own / "warc"
    command = [
        sys.executable, "-m", "crawler", "worker", "news", "-a", f"feeds={feed}", "--frontier", frontier.url,
        "--database-url", database_url, "-s", f"CAIXUN_FRONTIER_KEY={frontier.key}",
        "-s", f"WARC_DIR={warc}", "-s", f"CAIXUN_SPOOL_DIR={own / 'spool'}", "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CAIXUN_EXTRACT_WORKERS=1", "-s", f"LOG_FORMAT={LOG_FORMAT}",
        *(["--exit-when-idle", idle] if idle is not None else []), *extra,
    ]  # fmt: skip
    stdout, stderr = own / "stdout.txt", own / "stderr.txt"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=_crawl_env(env), stdout=out, stderr=err)
    return Worker(name, process, stdout, stderr)


def replaying(archive: Path) -> tuple[str, ...]:
    return ("-s", f"REPLAY_WARC={archive}")


def _article_fetches(database_url: str) -> Counter:
    """How often each page (not robots.txt) was fetched, by the fetch records."""
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        urls = connection.execute(select(Fetch.requested_url)).scalars().all()
    engine.dispose()
    return Counter(url for url in urls if not url.endswith("/robots.txt"))


def _interrupted_fetches(database_url: str) -> set[str]:
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        urls = connection.execute(
            select(Fetch.requested_url).where(Fetch.error.like("extract_interrupted%"))
        ).scalars().all()
    engine.dispose()
    return set(urls)


def _watermark(database_url: str) -> datetime | None:
    engine = make_engine(database_url, create=False)
    with session_factory(engine)() as session:
        mark = watermark(session, "feeds.example.org", FEED_URL)
    engine.dispose()
    return mark


def _stored_urls(database_url: str) -> list[str]:
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        urls = connection.execute(select(StoredArticle.url)).scalars().all()
    engine.dispose()
    return urls


def _frontier_left(frontier) -> dict[str, int]:
    client = frontier.client()
    return {
        "queued": client.zcard(f"{frontier.key}:requests"),
        "leased": client.zcard(f"{frontier.key}:leases"),
        "fingerprints": client.scard(f"{frontier.key}:dupefilter"),
        "discovering": client.exists(f"{frontier.key}:discovery"),
    }


EMPTY = {"queued": 0, "leased": 0, "fingerprints": 0, "discovering": 0}


def test_three_workers_store_every_article_exactly_once(archive, frontier, postgres_url, tmp_path):
    workers = [start_worker(tmp_path, f"w{n}", frontier, postgres_url, *replaying(archive)) for n in range(3)]
    codes = [w.wait() for w in workers]

    assert codes == [exitcodes.OK] * 3, [w.log[-3000:] for w in workers]
    fetched = _article_fetches(postgres_url)
    expected = {url for url, _ in _variants(PAGES)}
    assert set(fetched) == expected | {FEED_URL}
    assert max(fetched.values()) == 1  # no page, and not the feed, fetched twice
    stored = _stored_urls(postgres_url)
    assert sorted(stored) == sorted(expected)
    assert all(w.stat("frontier/acknowledged") > 0 for w in workers), "a worker got no page at all"
    assert sum(w.stat("frontier/acknowledged") for w in workers) == PAGES
    assert _frontier_left(frontier) == EMPTY


def _leases_of(client, frontier, pid: int) -> dict[str, str]:
    """The victim's leases in Redis: lease id → the URL of the request it holds."""
    leases = {}
    for lease in client.zrange(f"{frontier.key}:leases", 0, -1):
        if lease.decode().split(":")[1] == str(pid):
            data = client.hget(f"{frontier.key}:leased", lease)
            if data is not None:
                leases[lease.decode()] = picklecompat.loads(data)["url"]
    return leases


def test_a_worker_killed_mid_run_loses_nothing_it_had_taken(archive, frontier, postgres_url, tmp_path):
    lease = ("-s", "CAIXUN_LEASE_SECONDS=3")
    workers = [start_worker(tmp_path, f"w{n}", frontier, postgres_url, *replaying(archive), *lease) for n in range(3)]
    victim, others = workers[1], [workers[0], workers[2]]
    client = frontier.client()
    deadline = time.monotonic() + 120
    taken: dict[str, str] = {}
    while not taken and time.monotonic() < deadline:
        taken = _leases_of(client, frontier, victim.process.pid)
        time.sleep(0.02)
    assert taken, "the victim never took a page"
    victim.process.send_signal(signal.SIGKILL)
    victim.wait()
    taken.update(_leases_of(client, frontier, victim.process.pid))  # what it held when it died

    assert [w.wait() for w in others] == [exitcodes.OK] * 2, [w.log[-3000:] for w in others]
    stored = set(_stored_urls(postgres_url))
    assert set(taken.values()) <= stored
    assert stored == {url for url, _ in _variants(PAGES)}
    assert sum(w.stat("frontier/requeued") for w in others) >= len(taken)
    assert _frontier_left(frontier) == EMPTY


def _rounds(worker: Worker) -> list[tuple[float, float]]:
    """The worker's discovery rounds, (began, ended) by its log's clock."""
    begun, rounds = None, []
    for line in worker.log.splitlines():
        if re.search(r"discovery: round \d+ begins", line):
            begun = float(line.split(" ", 1)[0])
        elif re.search(r"discovery: round \d+ ended", line):
            rounds.append((begun, float(line.split(" ", 1)[0])))
            begun = None
    if begun is not None:  # cut short by the end of the crawl
        rounds.append((begun, float("inf")))
    return rounds


def test_two_workers_never_discover_at_the_same_time(archive, frontier, postgres_url, tmp_path):
    """Rounds are due at once (interval 0) and each lasts a second or more (the feed's site has a delay of
    1 s, kept across the workers), so both workers keep trying for the lock while the other holds it."""
    settings = (
        "-s", "CAIXUN_DISCOVERY_INTERVAL=0", "-s", "CAIXUN_LEASE_SECONDS=3", "-s", "CLOSESPIDER_TIMEOUT=15",
        "-s", 'DOWNLOAD_SLOTS={"feeds.example.org": {"delay": 1}}',
    )  # fmt: skip
    workers = [start_worker(tmp_path, f"w{n}", frontier, postgres_url, *replaying(archive), *settings, idle=None)
               for n in range(2)]  # fmt: skip
    assert [w.wait() for w in workers] == [exitcodes.OK] * 2, [w.log[-3000:] for w in workers]

    rounds = sorted((began, ended, w.name) for w in workers for began, ended in _rounds(w))
    assert len(rounds) >= 4, rounds
    for worker in workers:  # each ran rounds, or kept finding the other holding the lock
        assert _rounds(worker) or "holds the lock; this worker only fetches" in worker.log, worker.name
    for (_, ended, first), (began, _, second) in zip(rounds, rounds[1:]):
        assert began >= ended, f"{second} began a round at {began} while {first}'s went on until {ended}"
    assert sorted(_stored_urls(postgres_url)) == sorted(url for url, _ in _variants(PAGES))


def test_the_discovery_lock_of_a_killed_worker_runs_out_and_another_discovers(archive, frontier, postgres_url,
                                                                              tmp_path):  # fmt: skip
    settings = ("-s", "CAIXUN_LEASE_SECONDS=3", "-s", 'DOWNLOAD_SLOTS={"feeds.example.org": {"delay": 30}}')
    client = frontier.client()
    # the feed's site is first slowed by a reservation 30 s ahead: the holder waits for its slot, lock in hand
    client.set(f"{frontier.key}:slot:feeds.example.org", int(client.time()[0] * 1000 + 30_000), px=60_000)
    holder = start_worker(tmp_path, "holder", frontier, postgres_url, *replaying(archive), *settings, idle=None)
    deadline = time.monotonic() + 60
    while client.get(f"{frontier.key}:discovery") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f":{holder.process.pid}:" in (client.get(f"{frontier.key}:discovery") or b"").decode()
    holder.process.send_signal(signal.SIGKILL)
    holder.wait()
    client.delete(f"{frontier.key}:slot:feeds.example.org")

    other = start_worker(tmp_path, "other", frontier, postgres_url, *replaying(archive), "-s", "CAIXUN_LEASE_SECONDS=3")
    assert other.wait() == exitcodes.OK, other.log[-3000:]
    assert "holds the lock; this worker only fetches" in other.log
    assert len(_rounds(other)) == 1
    assert sorted(_stored_urls(postgres_url)) == sorted(url for url, _ in _variants(PAGES))


def test_the_request_rate_to_one_site_holds_across_workers(frontier, postgres_url, tmp_path, local_server):
    """sohu's delay is 0.25 s: three workers together must keep 0.25 s between its requests, as the server
    sees them arrive (each worker alone keeps it too, so without the shared slot they would send 3×)."""
    delay = 0.25
    pages = [(url, body) for url, body in _variants(PAGES, scheme="http://") if "sohu.com" in url]
    assert len(pages) == 30  # five recorded pages, six URLs each
    answers = {url: body for url, body in pages}
    feed = "http://feeds.example.org/finance.xml"

    def respond(path: str):
        if path == feed:
            return 200, {"Content-Type": "application/xml"}, _rss([url for url, _ in pages])
        if path in answers:
            return 200, {"Content-Type": "text/html"}, answers[path]
        return 404, {"Content-Type": "text/plain"}, b"not found"

    server = local_server(respond)
    # two requests in flight per worker: the first worker cannot take every page into its downloader at once
    settings = ("-s", f'DOWNLOAD_SLOTS={{"sohu": {{"delay": {delay}}}}}', "-s", "CONCURRENT_REQUESTS=2")
    warc = tmp_path / "warc"  # one folder for all (a shared disk): each worker writes its own series
    workers = [start_worker(tmp_path, f"w{n}", frontier, postgres_url, *settings, feed=feed,
                            env={"http_proxy": server.base_url}, warc=warc) for n in range(3)]  # fmt: skip
    assert [w.wait() for w in workers] == [exitcodes.OK] * 3, [w.log[-3000:] for w in workers]
    series = {re.fullmatch(r"caixun-news-\d{8}T\d{6}Z-(.+)-(\d+)-\d{5}\.warc\.gz", path.name).groups()
              for path in warc.iterdir()}  # fmt: skip
    assert series == {(socket.gethostname(), str(w.process.pid)) for w in workers}

    arrivals = [r.at for r in server.received if "sohu.com/" in r.path]
    assert len(arrivals) >= len(pages)  # the pages, and robots.txt of each sohu host
    assert sum(1 for w in workers if w.stat("frontier/acknowledged")) >= 2  # the pages were shared
    # n requests span at least (n - 1) delays, give or take the lateness of one of them: a request leaves at its
    # reserved time unless its worker's event loop is busy then (starting up, storing a page): 0.17 s seen in CI,
    # 0.5 s allowed. Without the shared slot, three workers keeping 0.25 s each send up to 12 a second: 7 requests
    # came within 0.87 s (1 s required) when it was switched off
    for i in range(len(arrivals)):
        for j in range(i + 1, len(arrivals)):
            assert arrivals[j] - arrivals[i] >= (j - i) * delay - 0.5, (i, j, arrivals[j] - arrivals[i])
    assert sorted(_stored_urls(postgres_url)) == sorted(url for url, _ in pages)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_daemon_worker_stopped_by_sigterm_gives_back_what_it_holds(archive, frontier, postgres_url, tmp_path):
    """Without --exit-when-idle a worker waits for work; SIGTERM (systemd's stop) ends it with exit 0 once the
    pages it is downloading are stored, leaving no lease or discovery lock behind: the rest waits in the queue,
    for the next worker, at once."""
    make_engine(postgres_url).dispose()  # the schema, for the polls below
    daemon = start_worker(tmp_path, "daemon", frontier, postgres_url, *replaying(archive), idle=None)
    _wait_for(lambda: len(_stored_urls(postgres_url)) >= 20, 120, "20 stored articles")
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.wait() == exitcodes.OK, daemon.log[-3000:]
    # its discovery round ended before the stop, and moved the feed's watermark then: a stopped crawl moves none
    assert _watermark(postgres_url) == NEWEST_ITEM
    left = _frontier_left(frontier)
    assert left["leased"] == 0 and left["discovering"] == 0
    assert left["queued"] > 0, "the daemon did everything before it was stopped: nothing shown"

    after = start_worker(tmp_path, "after", frontier, postgres_url, *replaying(archive))
    assert after.wait() == exitcodes.OK, after.log[-3000:]
    assert sorted(_stored_urls(postgres_url)) == sorted(url for url, _ in _variants(PAGES))
    # fetched twice: only pages whose extraction the stop interrupted, given back at once (their leases did not
    # have to run out), and stored by the next worker
    twice = {url for url, count in _article_fetches(postgres_url).items() if count > 1}
    assert twice and twice == _interrupted_fetches(postgres_url)
    assert daemon.stat("frontier/given_back") == len(twice)


def test_a_worker_without_a_usable_frontier_says_so(tmp_path):
    common = ("worker", "news", "--database-url", f"sqlite:///{tmp_path / 'c.db'}")
    result = run_crawler(*common)
    assert result.returncode == exitcodes.USAGE
    assert "give the frontier as --frontier redis://" in result.stderr
    result = run_crawler(*common, "--frontier", "http://bot:s3cret@127.0.0.1:6379/0")  # not Redis; password masked
    assert result.returncode == exitcodes.USAGE
    assert "(got 'http://bot:***@127.0.0.1:6379/0')" in result.stderr and "s3cret" not in result.stderr
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_crawler(*common, "--frontier", f"redis://127.0.0.1:{port}/0", "-s", "CAIXUN_REDIS_TIMEOUT=2")
    assert result.returncode == exitcodes.FRONTIER
    assert f"the frontier redis://127.0.0.1:{port}/0 is unreachable, nothing crawled" in result.stderr
    assert not (tmp_path / "c.db").exists()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of the test's own, with an append-only file, that the test can kill and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "redis"
    folder.mkdir()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
               "--appendonly", "yes", "--appendfsync", "always"]  # fmt: skip
    servers = []

    def start() -> subprocess.Popen:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(server)
        import redis

        client = redis.Redis(port=port)

        def answers() -> bool:
            try:
                return bool(client.ping()) and client.info("persistence")["loading"] == 0
            except redis.RedisError:
                return False

        _wait_for(answers, 30, "redis-server to answer")
        return server

    yield port, start
    for server in servers:
        server.kill()
        server.wait()


def test_redis_going_away_mid_run_stops_the_worker_and_loses_nothing(archive, own_redis, postgres_url, tmp_path):
    port, start_redis = own_redis
    server = start_redis()
    make_engine(postgres_url).dispose()  # the schema, for the polls below
    frontier = Frontier(f"redis://127.0.0.1:{port}/0", "caixun-test:news")
    settings = ("-s", "CAIXUN_LEASE_SECONDS=3", "-s", "CAIXUN_REDIS_TIMEOUT=2")
    worker = start_worker(tmp_path, "first", frontier, postgres_url, *replaying(archive), *settings)
    _wait_for(lambda: len(_stored_urls(postgres_url)) >= 30, 120, "30 stored articles")
    server.kill()  # SIGKILL: nothing flushed on the way out but what appendfsync always already wrote
    server.wait()
    assert worker.wait(60) == exitcodes.FRONTIER, worker.log[-3000:]
    assert f"the frontier redis://127.0.0.1:{port}/0 is unreachable" in worker.log
    assert len(_stored_urls(postgres_url)) < PAGES, "the worker was done before Redis went: nothing shown"

    start_redis()  # the same data, from its append-only file
    again = start_worker(tmp_path, "again", frontier, postgres_url, *replaying(archive), *settings)
    assert again.wait() == exitcodes.OK, again.log[-3000:]
    assert sorted(_stored_urls(postgres_url)) == sorted(url for url, _ in _variants(PAGES))
    assert _frontier_left(frontier) == EMPTY


def test_postgresql_going_away_mid_run_spools_and_the_next_worker_stores_it(archive, frontier, postgres_url,
                                                                            tmp_path):  # fmt: skip
    url = make_url(postgres_url)
    relay = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    through_relay = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    make_engine(postgres_url).dispose()  # the schema, for the polls below
    settings = ("-s", "CAIXUN_DATABASE_TIMEOUT=3", "-s", "CAIXUN_DATABASE_RETRY_SECONDS=1")
    worker = start_worker(tmp_path, "cut", frontier, through_relay, *replaying(archive), *settings)
    _wait_for(lambda: len(_stored_urls(postgres_url)) >= 30, 120, "30 stored articles")
    relay.cut()
    assert worker.wait(120) == exitcodes.DATABASE, worker.log[-3000:]
    stored = len(_stored_urls(postgres_url))
    assert stored < PAGES, "the worker was done before PostgreSQL went: nothing shown"
    assert list((tmp_path / "cut" / "spool").glob("spool-*.jsonl")), "nothing was spooled"

    # the next worker on that machine (the same spool folder) stores what was spooled
    again = start_worker(tmp_path, "cut", frontier, postgres_url, *replaying(archive))
    assert again.wait() == exitcodes.OK, again.log[-3000:]
    assert sorted(_stored_urls(postgres_url)) == sorted(url for url, _ in _variants(PAGES))
    assert not list((tmp_path / "cut" / "spool").glob("spool-*.jsonl"))
