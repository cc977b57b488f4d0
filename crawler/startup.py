"""A crawl that cannot start says why in one line, with its exit code, instead of a traceback.

Scrapy starts a crawl in a Deferred (CrawlerProcess) or an asyncio Task
(AsyncCrawlerProcess, which `scrapy crawl` uses) and lets an exception raised by a
spider's or a component's constructor end up as a traceback ("Task exception was
never retrieved"). StartupWatch takes that exception: the errors a user causes (bad
spider arguments or settings, a bad database URL, a PostgreSQL database or role that does not exist, a folder that cannot be written,
an unreachable database, an outdated schema) become one ERROR line; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import logging

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler import exitcodes
from crawler.folders import FolderNotWritable
from crawler.store import DatabaseMissing, DatabaseUnreachable
from storage.db import DatabaseURLError

logger = logging.getLogger("crawler.startup")

# what bad input or a missing service raises while a crawl is built (spider arguments and settings raise ValueError)
USER_ERRORS = (ValueError, OSError, RuntimeError)


def startup_exit_code(error: BaseException | None) -> int:
    if isinstance(error, (DatabaseURLError, DatabaseMissing)):
        return exitcodes.USAGE
    if isinstance(error, FolderNotWritable):
        return exitcodes.CANNOT_WRITE
    if isinstance(error, DatabaseUnreachable):
        return exitcodes.DATABASE
    return exitcodes.FAILED


class StartupWatch:
    """Watches what CrawlerProcess.crawl returned; `error` is why the crawl could not start, if it could not."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def watch(self, started: Deferred | asyncio.Future | None) -> None:
        if isinstance(started, Deferred):
            started.addErrback(self._failed)
        elif isinstance(started, asyncio.Future):
            started.add_done_callback(self._done)

    @property
    def exit_code(self) -> int:
        return startup_exit_code(self.error)

    def _failed(self, failure: Failure) -> None:
        self._report(failure.value)

    def _done(self, task: asyncio.Future) -> None:
        if not task.cancelled() and task.exception() is not None:  # exception() marks it retrieved
            self._report(task.exception())

    def _report(self, error: BaseException) -> None:
        self.error = error
        if isinstance(error, USER_ERRORS):
            logger.error("the crawl cannot start: %s", error)
        else:
            logger.error("the crawl cannot start", exc_info=error)
