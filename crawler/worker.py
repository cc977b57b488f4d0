"""`python -m crawler worker SPIDER --frontier redis://… --database-url postgresql://…`: one crawl worker.

Start one on each of any number of machines (or several on one): they share the Redis frontier
(crawler.frontier) and the database. One at a time discovers (reads the lists, under a lock with a
lease); every one fetches, extracts and stores. A worker killed at any moment loses nothing: what it
had taken is queued again when its leases run out (CAIXUN_LEASE_SECONDS).

Without --exit-when-idle a worker runs until stopped (SIGTERM or Ctrl-C: it finishes the pages it is
downloading, gives the rest back to the frontier and exits 0), discovering again every CAIXUN_DISCOVERY_INTERVAL seconds; with it,
the worker exits once the whole frontier has been empty that many seconds.

Before crawling it ingests what its machine's spool holds from workers that are gone (files of live
ones are locked and left alone). It takes no run lock: workers of one frontier share their sites.
Exit codes are crawler.exitcodes' (6: Redis stopped answering).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from crawler import exitcodes
from crawler.folders import FolderNotWritable
from crawler.logmasking import install_log_masking
from crawler.scheduled import (
    add_crawl_arguments, check_folders, crawl, crawl_settings, crawler_process, database_failed, ingest_spool_of,
    missing_extra,
)
from crawler.store import DEFAULT_DATABASE_TIMEOUT, DEFAULT_RETRY_SECONDS, UNREACHABLE, CrawlStore
from storage import mask_url
from storage.migrate import OutdatedSchema

logger = logging.getLogger("crawler.worker")

FRONTIER_SCHEMES = ("redis://", "rediss://", "unix://")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_crawl_arguments(parser, "worker")
    parser.add_argument("--frontier", metavar="URL",
                        help="the shared frontier, redis://host:6379/0 (default: the CAIXUN_FRONTIER setting); "
                             "its workers run the same spider with the same -a arguments, on one "
                             "database (PostgreSQL, for several machines)")  # fmt: skip
    parser.add_argument("--exit-when-idle", type=float, metavar="SECONDS",
                        help="exit 0 once the frontier has been empty this long (default: wait for work)")


def main(args: argparse.Namespace) -> int:
    install_log_masking()
    started = time.monotonic()
    if (loaded := crawl_settings(args, "worker")) is None:
        return exitcodes.USAGE
    settings, spider_args = loaded
    frontier = args.frontier or settings.get("CAIXUN_FRONTIER")
    if not frontier or not frontier.startswith(FRONTIER_SCHEMES):
        print(f"python -m crawler worker: give the frontier as --frontier redis://host:6379/0 "
              f"(got {mask_url(frontier or '')!r})", file=sys.stderr)  # fmt: skip
        return exitcodes.USAGE
    settings.set("CAIXUN_FRONTIER", frontier, priority="cmdline")
    if missing := missing_extra(settings):
        print(f"python -m crawler worker: {missing}", file=sys.stderr)
        return exitcodes.FAILED
    if args.exit_when_idle is not None:
        if args.exit_when_idle < 0:
            print("python -m crawler worker: --exit-when-idle must be 0 or more seconds", file=sys.stderr)
            return exitcodes.USAGE
        settings.set("CAIXUN_EXIT_WHEN_IDLE", args.exit_when_idle, priority="cmdline")
    if isinstance(opened := crawler_process(settings, args.spider, spider_args), int):
        return opened
    process, database_url = opened
    if (code := _frontier_reachable(frontier, settings)) is not None:
        return code
    timeout = settings.getfloat("CAIXUN_DATABASE_TIMEOUT", DEFAULT_DATABASE_TIMEOUT)
    try:
        check_folders(settings, database_url)
        store = CrawlStore(database_url, timeout, settings.getfloat("CAIXUN_DATABASE_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        ingest_spool_of(settings, store)
        store.close()
    except FolderNotWritable as exc:
        logger.error("%s: nothing crawled", exc)
        return exitcodes.CANNOT_WRITE
    except OutdatedSchema as exc:  # a decision for the operator, not an outage
        logger.error("%s", exc)
        return exitcodes.FAILED
    except (RuntimeError, *UNREACHABLE) as exc:  # DatabaseMissing is a RuntimeError
        return database_failed(exc, database_url)
    return crawl(process, args.spider, spider_args, started, stopped_is_ok=True)


def _frontier_reachable(url: str, settings) -> int | None:
    """None if Redis answers at `url`; else the exit code, said in one line."""
    import redis  # here, not at import: python -m crawler run loads this module too, and needs no Redis
    from redis.exceptions import RedisError

    timeout = settings.getfloat("CAIXUN_REDIS_TIMEOUT", 10)
    try:
        redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping()
    except ValueError as exc:  # a malformed URL
        logger.error("the frontier URL %s is not usable: %s", mask_url(url), exc)
        return exitcodes.USAGE
    except RedisError as exc:
        logger.error("the frontier %s is unreachable, nothing crawled: %s", mask_url(url), exc)
        return exitcodes.FRONTIER
    return None
