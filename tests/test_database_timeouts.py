"""Time limits on the database, on real SQLite and PostgreSQL: connect, statement and watchdog timeouts.

PostgreSQL is reached through tests.relay.TcpRelay where the test needs a server that never answers:
frozen from the start (a port that accepts connections and says nothing) or frozen mid-run (as a
SIGSTOPped server: the connections stay open, the kernel acknowledges, nothing answers).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from crawler import exitcodes
from crawler.runlock import RunLock
from crawler.store import CrawlStore
from extractors import Article
from storage import make_engine, session_factory
from storage.db import reader_engine
from storage.timeouts import StatementTimeout
from storage.write import upsert_article
from tests.helpers import PROJECT_DIR, run_crawler, run_storage, start_crawler
from tests.relay import TcpRelay
from tests.test_scheduled_run import (  # noqa: F401 (uninterrupted is a fixture)
    LISTED,
    ONE_AT_A_TIME,
    SinaSite,
    _article_count,
    _export,
    _run_args,
    _summary,
    _wait_for,
    uninterrupted,
)

# counts to 10^9 on SQLite: minutes of work, unless something stops it
SLOW_SQLITE = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c"
)


def _relayed(postgres_url: str, *, frozen: bool = False) -> tuple[TcpRelay, str]:
    direct = make_url(postgres_url)
    relay = TcpRelay((direct.host or "127.0.0.1", direct.port or 5432), frozen=frozen)
    return relay, direct.set(port=relay.port).render_as_string(hide_password=False)


def _direct(postgres_url: str) -> psycopg.Connection:
    """A plain psycopg connection, outside the code under test."""
    return psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True)


def _store_one(database_url: str) -> None:
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        upsert_article(session, Article(url="https://example.com/a.html", extractor="test@1", site="sina", title="标题"))
    engine.dispose()


# --- connecting: a port that accepts and never answers ---------------------------------------------------------


@pytest.mark.parametrize("command", ["query", "stats", "export", "count"])
def test_a_reader_gives_up_connecting_to_a_server_that_never_answers(postgres_url, command):
    relay, url = _relayed(postgres_url, frozen=True)
    try:
        started = time.monotonic()
        with_password = url.replace("postgres@", "postgres:hunter2@")
        result = run_storage(command, "--database-url", with_password, "--timeout", "2")
        took = time.monotonic() - started
    finally:
        relay.cut()
    assert result.returncode == 1, result.stderr
    assert "cannot use the database" in result.stderr and "connection timeout expired" in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert took < 10, took  # psycopg alone waits 130 s


def test_the_default_connect_timeout_is_10_seconds(postgres_url):
    relay, url = _relayed(postgres_url, frozen=True)
    try:
        started = time.monotonic()
        result = run_storage("upgrade", "--database-url", url)
        took = time.monotonic() - started
    finally:
        relay.cut()
    assert result.returncode == 1 and "connection timeout expired" in result.stderr, result.stderr
    assert 9 < took < 20, took


def test_the_run_lock_gives_up_on_a_server_that_never_answers(postgres_url):
    relay, url = _relayed(postgres_url, frozen=True)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="connection timeout expired"):
            RunLock("sina_finance", url, timeout=2).acquire()
        assert time.monotonic() - started < 6
    finally:
        relay.cut()


def test_a_scheduled_run_against_a_server_that_never_answers_exits_5(tmp_path, postgres_url):
    relay, url = _relayed(postgres_url, frozen=True)
    try:
        started = time.monotonic()
        result = run_crawler(*_run_args(tmp_path, url, "-s", "LOG_LEVEL=INFO"))  # "Spider opened" is INFO
        took = time.monotonic() - started
    finally:
        relay.cut()
    assert result.returncode == exitcodes.DATABASE, result.stderr[-3000:]
    assert "connection timeout expired" in result.stderr and "Spider opened" not in result.stderr
    assert took < 40, took  # the lock's connect timeout (10 s), not psycopg's 130 s


# --- statement timeouts ----------------------------------------------------------------------------------------


def test_sqlite_statement_past_the_timeout_is_stopped(tmp_path):
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    make_engine(url).dispose()
    engine = reader_engine(url, timeout=1)
    started = time.monotonic()
    with pytest.raises(StatementTimeout) as caught, engine.connect() as connection:
        connection.exec_driver_sql(SLOW_SQLITE).scalar()
    took = time.monotonic() - started
    assert "statement timeout of 1 s" in str(caught.value.orig)
    assert 0.9 < took < 5, took
    with engine.connect() as connection:  # the connection, and its clock, serve the next statement
        assert connection.exec_driver_sql("SELECT count(*) FROM articles").scalar() == 0
    engine.dispose()


def test_postgresql_statement_past_the_timeout_is_stopped(postgres_url):
    engine = reader_engine(postgres_url, timeout=1)
    started = time.monotonic()
    with pytest.raises(StatementTimeout) as caught, engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_sleep(30)")
    assert "statement timeout of 1 s" in str(caught.value.orig)
    assert time.monotonic() - started < 5
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "1s"
    engine.dispose()
    unlimited = reader_engine(postgres_url, timeout=0)
    with unlimited.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    unlimited.dispose()


def test_a_cancel_that_is_not_the_timeout_is_not_called_one(postgres_url):
    engine = reader_engine(postgres_url, timeout=30)
    with engine.connect() as connection, _direct(postgres_url) as admin:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        canceller = threading.Timer(1, lambda: admin.execute("SELECT pg_cancel_backend(%s)", (pid,)))
        canceller.start()
        with pytest.raises(OperationalError) as caught:
            connection.exec_driver_sql("SELECT pg_sleep(20)")
        canceller.join()
    assert not isinstance(caught.value, StatementTimeout)
    assert "canceling statement due to user request" in str(caught.value.orig)
    engine.dispose()


def test_an_abandoned_postgresql_query_dies_with_its_timeout(postgres_url):
    """The client is killed mid-query: the server ends the query when the timeout passes, not when it is done."""
    marker = f"caixun_abandoned_{os.getpid()}"
    script = (
        "from storage.db import reader_engine; import sys\n"
        f"engine = reader_engine({postgres_url!r}, timeout=2)\n"
        "with engine.connect() as connection:\n"
        f"    connection.exec_driver_sql('SELECT pg_sleep(60) AS {marker}')\n"
    )
    client = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_DIR)
    watching = _direct(postgres_url)

    def running() -> int:
        return watching.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()", (f"%{marker}%",)
        ).fetchone()[0]

    try:
        _wait_for(lambda: running() == 1, 20, "the slow query to start")
        os.kill(client.pid, signal.SIGKILL)
        client.wait(timeout=10)
        killed = time.monotonic()
        assert running() == 1  # the server has not noticed: pg_sleep goes on without its client
        _wait_for(lambda: running() == 0, 10, "the abandoned query to end")
        assert time.monotonic() - killed < 5
    finally:
        if client.poll() is None:
            client.kill()
        watching.close()


def test_cli_timeout_is_a_clear_error(postgres_url):
    _store_one(postgres_url)
    locker = psycopg.connect(postgres_url.replace("+psycopg", ""))  # in a transaction: the lock holds
    try:
        locker.execute("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")  # every reader now waits
        started = time.monotonic()
        result = run_storage("count", "--database-url", postgres_url, "--timeout", "1")
        took = time.monotonic() - started
    finally:
        locker.rollback()
        locker.close()
    assert result.returncode == 1, result.stderr
    assert "statement timeout of 1 s" in result.stderr and "--timeout SECONDS" in result.stderr
    assert "Traceback" not in result.stderr
    assert took < 10, took
    assert run_storage("count", "--database-url", postgres_url, "--timeout", "1").stdout.strip() == "1"


def test_export_timeout_is_per_batch(tmp_path):
    """Exporting takes far longer than the timeout as a whole; each batch is its own statement, so it completes."""
    url = f"sqlite:///{tmp_path / 'big.db'}"
    engine = make_engine(url)
    rows = 30_000
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO articles (canonical_url, url, site, title, body, authors, images, symbols, extractor,"
            " warnings, fetched_at, first_seen_at, updated_at)"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
            f" WHERE i < {rows}) SELECT 'https://e.com/' || i, 'https://e.com/' || i, 'sina', 't' || i,"
            " 'body', '[]', '[]', '[]', 'test@1', '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00',"
            " '2026-01-01 00:00:00' FROM n"
        )
    engine.dispose()
    started = time.monotonic()
    result = run_storage("export", "--database-url", url, "--timeout", "0.5")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == rows
    assert took > 1, "the export should outlast the timeout for this test to mean something"


# --- a server that stops answering: the crawler's watchdog -----------------------------------------------------


def test_a_crawl_store_session_on_a_frozen_server_fails_within_the_timeout(postgres_url):
    relay, url = _relayed(postgres_url)
    store = CrawlStore(url, timeout=1, retry_after=3)
    try:
        with store.sessions.begin() as session:  # a pooled connection, made while the server answered
            assert session.execute(text("SELECT count(*) FROM articles")).scalar() == 0
        relay.freeze()
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught, store.sessions.begin() as session:
            session.execute(text("SELECT count(*) FROM articles"))
        took = time.monotonic() - started
        assert "no answer from the database within 2 s" in str(caught.value.orig)
        assert 1.5 < took < 5, took

        # while the hold lasts, each use fails at once instead of costing another timeout
        started = time.monotonic()
        with pytest.raises(OperationalError, match="it is tried again in"), store.sessions.begin() as session:
            session.execute(text("SELECT 1"))
        assert time.monotonic() - started < 0.5

        relay.thaw()
        time.sleep(3)
        with store.sessions() as session:  # after the hold the store connects anew
            session.execute(text("SELECT 1"))
            relay.freeze()  # and the commit, too, is watched
            started = time.monotonic()
            with pytest.raises(OperationalError, match="no answer from the database within 2 s"):
                session.commit()
            assert time.monotonic() - started < 5
        relay.thaw()
        time.sleep(3)
        with store.sessions.begin() as session:
            assert session.execute(text("SELECT count(*) FROM articles")).scalar() == 0
    finally:
        store.close()
        relay.cut()


def test_a_frozen_database_mid_run_spools_exits_5_and_the_next_run_ingests(
    tmp_path, local_server, postgres_url, uninterrupted
):
    site = SinaSite(local_server, delay=0.4)
    relay, through_relay = _relayed(postgres_url)
    args = _run_args(
        tmp_path, through_relay, *ONE_AT_A_TIME, "-s", "CAIXUN_DATABASE_RETRY_SECONDS=600",
        "-s", "CAIXUN_DATABASE_TIMEOUT=1",
    )  # fmt: skip
    run = start_crawler(*args, env=site.env())
    try:
        _wait_for(lambda: _article_count(postgres_url) >= 3, 60, "three stored articles")
        relay.freeze()
        frozen_at = time.monotonic()
        out, err = run.communicate(timeout=120)
        took = time.monotonic() - frozen_at
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == exitcodes.DATABASE, err[-3000:]
    assert "no answer from the database within 2 s" in err
    spooled = int(re.search(r"spooled (\d+)", _summary(out)).group(1))
    assert spooled >= 1 and _article_count(postgres_url) + spooled >= len(LISTED)
    # without the watchdog it waits as long as the server stays frozen; without the hold after a silence,
    # each of the remaining pages costs a connect timeout (37 s in all here)
    assert took < 25, took
    assert "it is tried again in" in err

    relay.thaw()
    site.delay = 0
    try:
        rerun = run_crawler(*args, env=site.env())
    finally:
        relay.cut()
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not list((tmp_path / "spool").glob("spool-*.jsonl"))
    assert _export(postgres_url) == uninterrupted
