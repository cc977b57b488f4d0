"""Failures an unlucky operator meets, each a clear, true message with a documented exit code, never a traceback.

Folders are made unwritable the way a cron user meets them: the crawl runs as
the unprivileged user `nobody` (setpriv) when the tests run as root, since root
writes anywhere; as any other user, plain permissions do. Crawls are the real
`python -m crawler run` / `scrapy crawl` against tests.test_scheduled_run.SinaSite.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from crawler import exitcodes
from crawler.items import FetchedPage
from crawler.scheduled import ingest_spool
from crawler.spool import Spool
from crawler.store import CrawlStore
from storage import make_engine
from storage.db import session_factory
from storage.models import CrawlRun, Fetch, StoredArticle
from storage.provenance import record_fetch, start_run
from tests.helpers import PROJECT_DIR, PROXIED_ROLL_API, _crawl_env, run_crawler
from tests.relay import TcpRelay
from tests.test_scheduled_run import LISTED, SinaSite, _article_count as _stored, _run_args, _summary, cut_mid_run

AS_ROOT = os.geteuid() == 0


def _as_operator(*command: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    """The command as an unprivileged user (`nobody` under root), from the project folder."""
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if AS_ROOT else []
    if AS_ROOT and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no unprivileged user to run the crawl as")
    return subprocess.run(
        [*prefix, sys.executable, *command], cwd=PROJECT_DIR, env=_crawl_env(env), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def shared_dir(tmp_path_factory) -> Path:
    """A folder the unprivileged user can write (pytest's own tmp folders are private to the test user)."""
    folder = tmp_path_factory.mktemp("operator")
    for path in (folder, *folder.parents):
        if path == Path(path.anchor) or str(path) in ("/tmp", "/var/tmp"):
            break
        path.chmod(path.stat().st_mode | 0o711)  # let the operator traverse down to it
    folder.chmod(0o777)
    return folder


def _read_only(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    path.chmod(0o555)
    return path


def _writable(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    path.chmod(0o777)
    return path


def _no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


# --- folders that cannot be written ------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["database", "spool", "lock", "warc"])
def test_an_unwritable_folder_is_named_and_nothing_is_crawled(shared_dir, local_server, folder):
    site = SinaSite(local_server)
    places = {name: _writable(shared_dir / name) for name in ("database", "spool", "lock", "warc")}
    places[folder] = _read_only(shared_dir / f"{folder}-read-only") / "inside"  # made by mkdir: that fails too
    args = [
        "run", "sina_finance", "-a", "channels=153:2516", "--database-url", f"sqlite:///{places['database'] / 'c.db'}",
        "-s", f"CAIXUN_ROLL_API_URL={PROXIED_ROLL_API}", "-s", f"CAIXUN_SPOOL_DIR={places['spool']}",
        "-s", f"CAIXUN_LOCK_DIR={places['lock']}", "-s", f"WARC_DIR={places['warc']}",
    ]  # fmt: skip
    result = _as_operator("-m", "crawler", *args, env=site.env())
    assert result.returncode == exitcodes.CANNOT_WRITE, result.stderr[-3000:]
    setting = {"database": "DATABASE_URL", "spool": "CAIXUN_SPOOL_DIR", "lock": "CAIXUN_LOCK_DIR", "warc": "WARC_DIR"}
    assert f"cannot write the {'run lock' if folder == 'lock' else folder.replace('warc', 'WARC')} folder " \
           f"{places[folder]}: Permission denied (set {setting[folder]} to another place)" in result.stderr
    _no_traceback(result)
    assert site.server.requests == []  # nothing crawled


def test_a_read_only_database_file_is_named(shared_dir, local_server):
    site = SinaSite(local_server)
    database = _writable(shared_dir / "db") / "c.db"
    make_engine(f"sqlite:///{database}").dispose()  # the schema, owned by the test user
    database.chmod(0o444)
    args = _run_args(_writable(shared_dir / "work"), f"sqlite:///{database}", "-s", f"CAIXUN_LOCK_DIR={shared_dir / 'work'}")
    result = _as_operator("-m", "crawler", *args, env=site.env())
    assert result.returncode == exitcodes.CANNOT_WRITE, result.stderr[-3000:]
    assert f"cannot write the database file {database}: Permission denied" in result.stderr
    _no_traceback(result)


@pytest.mark.parametrize("what", ["WARC folder", "database file"])
def test_scrapy_crawl_with_something_it_cannot_write_does_not_start(shared_dir, local_server, what):
    site = SinaSite(local_server)
    database = _writable(shared_dir / "db") / "c.db"
    warc = _writable(shared_dir / "warc")
    if what == "database file":
        make_engine(f"sqlite:///{database}").dispose()
        database.chmod(0o444)
    else:
        warc = _read_only(shared_dir / "warc-read-only") / "run"
    result = _as_operator(
        "-m", "scrapy", "crawl", "sina_finance", "-a", "channels=153:2516", "-s", f"DATABASE_URL=sqlite:///{database}",
        "-s", f"CAIXUN_ROLL_API_URL={PROXIED_ROLL_API}", "-s", f"WARC_DIR={warc}", env=site.env(),
    )  # fmt: skip
    assert result.returncode == exitcodes.CANNOT_WRITE, result.stderr[-3000:]
    named = warc if what == "WARC folder" else database
    assert f"the crawl cannot start: cannot write the {what} {named}: Permission denied" in result.stderr
    _no_traceback(result)
    assert site.server.requests == []


def test_a_database_outage_with_an_unwritable_spool_is_reported_as_it_is(tmp_path, local_server, postgres_url):
    """`scrapy crawl` checks no spool up front: once the database is gone, pages can be neither stored nor
    spooled, and the run says so (it used to print a traceback per page and "pages were spooled")."""
    site = SinaSite(local_server, delay=0.3)
    direct = make_url(postgres_url)
    relay = TcpRelay((direct.host or "127.0.0.1", direct.port or 5432))
    through_relay = direct.set(port=relay.port).render_as_string(hide_password=False)
    (tmp_path / "a-file").write_text("")
    spool = tmp_path / "a-file" / "spool"  # under a plain file: no user, root included, can make it
    crawl = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "sina_finance", "-a", "channels=153:2516",
         "-s", f"DATABASE_URL={through_relay}", "-s", f"CAIXUN_ROLL_API_URL={PROXIED_ROLL_API}",
         "-s", f"CAIXUN_SPOOL_DIR={spool}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "CONCURRENT_REQUESTS=1", "-s", "CAIXUN_DATABASE_RETRY_SECONDS=600"],
        cwd=PROJECT_DIR, env=_crawl_env(site.env()), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _, stderr = cut_mid_run(crawl, relay, postgres_url)
    assert crawl.returncode == exitcodes.DATABASE, stderr[-3000:]
    lost = len(LISTED) - _stored(postgres_url)
    assert lost >= 1
    assert f"the database was unreachable: 0 page(s) spooled for the next run, {lost} not kept (the spool " \
           f"folder {spool} cannot be written; the next run fetches them again)" in stderr
    assert stderr.count("cannot write the spool") == 1  # one line, not one per page
    assert "pages were spooled" not in stderr and "Traceback" not in stderr


# --- start-up errors ---------------------------------------------------------------------------------------------


def test_a_bad_spider_argument_is_one_line(tmp_path):
    result = run_crawler(*_run_args(tmp_path, f"sqlite:///{tmp_path / 'c.db'}", "-a", "max_pages=many"))
    assert result.returncode == exitcodes.FAILED
    assert "the crawl cannot start: max_pages must be a whole number, got 'many'" in result.stderr
    _no_traceback(result)


# --- the spool and crawl_runs after a kill ---------------------------------------------------------------------


def _spooled_pages(count: int) -> list[FetchedPage]:
    at = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)
    return [
        FetchedPage(url=f.url, request_url=f.url, status=200, headers={"Content-Type": "text/html"}, body=f.body,
                    fetched_at=at + timedelta(seconds=n, microseconds=123), discovered_from="argument:urls")
        for n, f in enumerate(LISTED[:count])
    ]  # fmt: skip


def _counts(database_url: str) -> tuple[int, int]:
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        fetches = connection.execute(select(func.count()).select_from(Fetch)).scalar_one()
        articles = connection.execute(select(func.count()).select_from(StoredArticle)).scalar_one()
    engine.dispose()
    return fetches, articles


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ingesting_a_spool_again_after_a_kill_stores_nothing_twice(tmp_path, backend, request):
    database_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'c.db'}"
    pages = _spooled_pages(5)
    store = CrawlStore(database_url)
    # one page's fetch was recorded live before the database went away: its row has no outcome yet
    with store.sessions.begin() as session:
        pages[4].fetch_id = record_fetch(session, requested_url=pages[4].request_url, final_url=pages[4].url,
                                         status=200, fetched_at=pages[4].fetched_at - timedelta(seconds=1))  # fmt: skip
    # a kill after three pages were ingested: the state an ingestion of the first three leaves
    first_three = Spool(tmp_path / "partial")
    for page in pages[:3]:
        first_three.add(page)
    first_three.close()
    assert ingest_spool(store, first_three).pages == 3
    whole = Spool(tmp_path / "spool")
    for page in pages:
        whole.add(page)
    whole.close()

    done = ingest_spool(store, whole)
    store.close()
    assert (done.pages, done.already) == (2, 3)
    assert _counts(database_url) == (5, 5)  # one fetch row per page: the live one was linked, not doubled
    assert not whole.files()


def test_a_run_that_never_recorded_its_end_is_closed_by_the_next_run(tmp_path, local_server):
    database_url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(database_url)
    started = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
    with session_factory(engine).begin() as session:
        killed = start_run(session, "sina_finance", {}, started)
        record_fetch(session, crawl_run_id=killed, requested_url="http://x/1", final_url="http://x/1", status=200,
                     fetched_at=started + timedelta(minutes=7))  # fmt: skip
        other_spider = start_run(session, "other", {}, started)
    engine.dispose()
    site = SinaSite(local_server)
    result = run_crawler(*_run_args(tmp_path, database_url), env=site.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"closed 1 earlier run(s) that never recorded their end as abandoned: {killed}" in result.stderr
    engine = make_engine(database_url, create=False)
    with engine.connect() as connection:
        runs = {run.id: run for run in connection.execute(select(CrawlRun))}
    engine.dispose()
    assert runs[killed].finish_reason == "abandoned" and runs[killed].exit_status is None
    assert runs[killed].finished_at == started + timedelta(minutes=7)  # its last recorded fetch
    assert runs[other_spider].finished_at is None  # another spider's runs are its own business
    assert "new " in _summary(result.stdout)


def test_the_operator_really_cannot_write_a_read_only_database(shared_dir):
    """Checked against sqlite3 itself: the file the crawler refuses really cannot be written by that user."""
    database = _writable(shared_dir / "db") / "c.db"
    sqlite3.connect(database).close()
    database.chmod(0o444)
    probe = _as_operator("-c", f"import sqlite3; c = sqlite3.connect({str(database)!r}); c.execute('create table t(x)')",
                         env={})  # fmt: skip
    assert probe.returncode != 0 and "readonly database" in probe.stderr


def test_a_spool_file_still_being_written_is_not_ingested(tmp_path):
    """Workers on one machine share a spool folder: a worker starting must not ingest, and delete, the file
    a live one is still appending to; once its writer is gone the file is ingested as usual."""
    database_url = f"sqlite:///{tmp_path / 'c.db'}"
    pages = _spooled_pages(3)
    live = Spool(tmp_path / "spool")
    for page in pages[:2]:
        live.add(page)
    store = CrawlStore(database_url)

    done = ingest_spool(store, Spool(tmp_path / "spool"))  # another process's view of the folder
    assert done.pages == 0
    assert live.files() == [live.path]
    live.add(pages[2])  # the writer goes on, nothing lost
    live.close()

    done = ingest_spool(store, Spool(tmp_path / "spool"))
    store.close()
    assert done.pages == 3
    assert _counts(database_url) == (3, 3)
    assert not live.files()
