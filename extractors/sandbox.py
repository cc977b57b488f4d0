"""Extraction in a pool of worker processes, so that no page can exhaust or block its caller.

  sandbox = Sandbox(ExtractionLimits(...), workers=2, after=None)   # after(article) -> dict runs in the worker
  future = sandbox.submit(Page(url, body, headers))   # concurrent.futures.Future[Extraction]; never fails
  extraction = sandbox.extract(page)                   # the same, waiting for it
  sandbox.interrupt("the crawl is stopping")           # every extraction in flight ends now as extract_interrupted
  sandbox.check()                                      # call now and then while waiting on futures: see below
  sandbox.close()                                      # stops the workers; a later submit starts new ones

An Extraction is an article, a not_article with its reason, or a failure whose
reason starts with extract_:

  extract_too_large, extract_too_many_elements   refused before parsing (extractors.limits)
  extract_timeout       longer than limits.timeout_s (wall clock, from the moment a worker took the page); the
                        worker is killed and replaced
  extract_memory        the worker's address space reached limits.memory_mb (within 32 MiB: a library may have
                        swallowed the MemoryError and returned half an article), or it was SIGKILLed (the kernel's
                        out-of-memory killer); the worker exits and is replaced
  extract_crashed       the worker died otherwise (a crash in C code), the pool broke, or no worker could start
  extract_error         extraction raised (a bug): the message names the exception, `detail` has the traceback
  extract_interrupted   interrupt() or close() was called while the page waited or was being extracted

The pool is pebble's ProcessPool (per-task timeouts, killed workers replaced).
Workers are started with "spawn", so they inherit nothing of the caller (an
event loop, sockets, signal handlers, database connections), and each:
- warms up (imports what extraction imports lazily), then caps its address space (RLIMIT_AS);
- dies at once on SIGTERM, even inside C code, and with its parent (PR_SET_PDEATHSIG, Linux);
- per page, caps its CPU time at twice the time limit plus 5 s (RLIMIT_CPU), a backstop should the parent
  not stop it in time;
- is replaced after TASKS_PER_WORKER pages, so that fragmented memory never builds up.
Create and use a Sandbox from one long-lived thread: workers die with the thread that started them.
When a pool breaks (its workers die while idle), pebble ends the pages it had
taken as extract_crashed but forgets those still queued: check() ends those, and
the next page starts a new pool. extract() calls it while it waits; a caller
that waits on submit()'s futures itself should call it every second or so.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import resource
import shutil
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from pebble import ProcessExpired, ProcessPool

from extractors.article import Article, NotAnArticle
from extractors.extract import Page, extract
from extractors.limits import MIB, ExtractionLimits, PageRefused, refuse_hostile, size_refusal

logger = logging.getLogger(__name__)

TASKS_PER_WORKER = 1000
MEMORY_MARGIN = 32 * MIB  # a peak this close to the limit means an allocation may have failed
EXIT_MEMORY = 86  # a worker's exit status after a page that reached the memory limit
CHECK_EVERY_S = 1.0
_PR_SET_PDEATHSIG = 1
_WARM_UP_PAGE = (
    "<html><head><title>预热页面</title><meta name=pubdate content='2020-01-01 08:00'></head><body><h1>预热页面</h1>"
    + "<p>这是用于预热的一段正文，内容足够长，可以走完整个通用抽取流程。</p>" * 8
    + "<table><tr><td>表格</td></tr></table></body></html>"
)


@dataclass
class Extraction:
    """What extracting one page gave: an article, not an article, or a failure (reason extract_*)."""

    article: Article | None = None
    not_article: str | None = None  # why the page is no article
    reason: str | None = None  # a failure: extract_timeout, extract_memory, ...
    message: str | None = None  # a failure: what happened
    detail: str | None = None  # extract_error: the worker's traceback
    extras: dict | None = None  # what the sandbox's `after` function made of the article, in the worker

    @classmethod
    def failed(cls, reason: str, message: str, detail: str | None = None) -> Extraction:
        return cls(reason=reason, message=message, detail=detail)

    @property
    def outcome(self) -> str:
        """article, not_article or failed."""
        if self.article is not None:
            return "article"
        return "failed" if self.reason else "not_article"

    @property
    def error(self) -> str | None:
        """The text stored with a page that gave no article: "<reason>: <message>" for a failure."""
        return f"{self.reason}: {self.message}" if self.reason else self.not_article


# --- in the worker -----------------------------------------------------------------------------------------------


def _vm_peak() -> int:
    """Peak address space of this process, in bytes (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _die_with_parent(parent_pid: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent still stops its workers when it closes the pool
        pass
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)


def _set_soft_limit(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    resource.setrlimit(which, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def init_worker(limits: ExtractionLimits, parent_pid: int) -> None:
    """pebble's worker initializer: signals, the parent's death, warm-up, the memory limit."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # pebble's handler runs only between bytecodes
    _die_with_parent(parent_pid)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s extraction worker %(process)d %(name)s: %(message)s"
    )
    try:
        extract(Page("https://example.com/warm-up.html", _WARM_UP_PAGE.encode()))
    except NotAnArticle:
        pass
    _set_soft_limit(resource.RLIMIT_AS, limits.memory_mb * MIB)


def _exit_for_memory() -> None:
    os._exit(EXIT_MEMORY)  # the parent reads the status as extract_memory; pebble starts a new worker


def extract_in_worker(
    url: str, body: bytes | str, headers: dict[str, str], limits: ExtractionLimits,
    after: Callable[[Article], dict] | None = None,
) -> Extraction:
    """One page, inside a worker: refuse it or extract it (then call `after` on the article); never raises."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_used = usage.ru_utime + usage.ru_stime
    _set_soft_limit(resource.RLIMIT_CPU, int(cpu_used + 2 * limits.timeout_s + 5))
    try:
        refuse_hostile(body, limits)
        article = extract(Page(url=url, body=body, headers=headers))
        result = Extraction(article=article, extras=after(article) if after is not None else None)
    except PageRefused as exc:
        result = Extraction.failed(exc.reason, str(exc))
    except NotAnArticle as exc:
        result = Extraction(not_article=str(exc))
    except MemoryError:
        _exit_for_memory()
        raise  # not reached
    except Exception as exc:  # a bug in extraction must cost one page, not the crawl
        result = Extraction.failed("extract_error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    if _vm_peak() >= limits.memory_mb * MIB - MEMORY_MARGIN:
        _exit_for_memory()
    return result


# --- in the caller -----------------------------------------------------------------------------------------------


def spawn_context():
    """multiprocessing's "spawn", with an interpreter this user may run.

    A virtualenv's python can be a link into a folder another user cannot enter
    (a crawl run as an unprivileged user): spawn then runs the base interpreter,
    which imports the same packages, as the child gets the parent's sys.path.
    """
    context = multiprocessing.get_context("spawn")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, getattr(sys, "_base_executable", None), os.path.join(sys.base_prefix, "bin", version),
                  shutil.which(version)]  # fmt: skip
    runnable = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if runnable is not None and runnable != sys.executable:
        context.set_executable(runnable)
    return context


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Sandbox:
    """A pool of extraction workers under ExtractionLimits; started on first use.

    The lock guards only the pool reference and the table of extractions in
    flight: pebble's threads call back into _settle, so nothing that waits for
    them (joining the pool, cancelling a task) runs while it is held.
    """

    def __init__(
        self, limits: ExtractionLimits | None = None, workers: int | None = None,
        after: Callable[[Article], dict] | None = None,
    ) -> None:  # fmt: skip
        self.limits = limits or ExtractionLimits()
        self.workers = workers or default_workers()
        self.after = after  # a module-level function (workers get it by reference), e.g. the storage's hashes
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()
        self._in_flight: dict[Future, Future] = {}  # ours: pebble's
        self._interrupted: str | None = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def _running_pool(self) -> ProcessPool:
        """The pool, started (again, if it broke); raises OSError or RuntimeError when no worker can be started."""
        if self.check():
            logger.warning("the extraction pool broke; starting a new one")
        with self._lock:
            if self._pool is None:
                pool = ProcessPool(
                    max_workers=self.workers, max_tasks=TASKS_PER_WORKER, initializer=init_worker,
                    initargs=(self.limits, os.getpid()), context=spawn_context(),
                )  # fmt: skip
                try:
                    pool.active  # noqa: B018 (asking pebble whether the pool is active starts its workers)
                except BaseException:
                    _shut(pool)  # no thread of its own runs yet: nothing to wait for
                    raise
                self._pool = pool
            return self._pool

    def start(self) -> None:
        """Start the workers now rather than at the first page (a failure is logged; pages then say it)."""
        try:
            self._running_pool()
        except (OSError, RuntimeError) as exc:
            logger.error("cannot start the extraction workers: %s", exc)

    def submit(self, page: Page) -> Future[Extraction]:
        """Extract the page in a worker; the future always ends with an Extraction."""
        result: Future[Extraction] = Future()
        if self._interrupted is not None:
            result.set_result(Extraction.failed("extract_interrupted", self._interrupted))
            return result
        refused = size_refusal(len(page.body), self.limits)  # not worth sending to a worker
        if refused is not None:
            result.set_result(Extraction.failed(refused.reason, str(refused)))
            return result
        arguments = (page.url, page.body, dict(page.headers), self.limits, self.after)
        try:
            try:
                task = self._running_pool().schedule(extract_in_worker, args=arguments, timeout=self.limits.timeout_s)
            except RuntimeError:  # the pool broke between the check and the call: once more, on a new one
                task = self._running_pool().schedule(extract_in_worker, args=arguments, timeout=self.limits.timeout_s)
        except (OSError, RuntimeError) as exc:
            result.set_result(Extraction.failed("extract_crashed", f"cannot start the extraction workers: {exc}"))
            return result
        with self._lock:
            self._in_flight[result] = task
        task.add_done_callback(lambda done: self._settle(result, done))
        result.add_done_callback(lambda ours: task.cancel() if ours.cancelled() else None)  # the caller gave up
        return result

    def extract(self, page: Page) -> Extraction:
        result = self.submit(page)
        while True:
            try:
                return result.result(timeout=CHECK_EVERY_S)
            except TimeoutError:
                self.check()

    def check(self) -> int:
        """If the pool broke, drop it (the next page starts a new one) and end as extract_crashed the
        extractions it will never answer; returns how many."""
        with self._lock:
            if self._pool is None or self._pool.active:
                return 0
            broken, self._pool = self._pool, None
            stranded = list(self._in_flight.items())
            self._in_flight.clear()
        self._end(stranded, "extract_crashed", "the extraction pool broke")
        _shut(broken)
        return max(len(stranded), 1)

    def _settle(self, result: Future[Extraction], task: Future) -> None:
        with self._lock:
            self._in_flight.pop(result, None)
        if not result.done():
            try:
                result.set_result(self._outcome(task))
            except InvalidStateError:  # interrupted or cancelled meanwhile
                pass

    def _outcome(self, task: Future) -> Extraction:
        if task.cancelled():
            return Extraction.failed("extract_interrupted", self._interrupted or "the extraction was cancelled")
        error = task.exception()
        if error is None:
            return task.result()
        if isinstance(error, TimeoutError):
            return Extraction.failed(
                "extract_timeout", f"extraction took longer than {self.limits.timeout_s:g} s; the worker was stopped"
            )
        if isinstance(error, ProcessExpired):
            return self._expired(error.exitcode)
        if isinstance(error, BrokenProcessPool):
            return Extraction.failed("extract_crashed", f"the extraction pool broke ({error})")
        return Extraction.failed("extract_error", f"{type(error).__name__}: {error}")

    def _expired(self, status: int | None) -> Extraction:
        if status == EXIT_MEMORY:
            return Extraction.failed(
                "extract_memory", f"extraction needed more than the {self.limits.memory_mb:,} MiB a worker may use"
            )
        if status == -signal.SIGKILL:
            return Extraction.failed("extract_memory", "the worker was killed (SIGKILL: the system ran out of memory?)")
        if status == -signal.SIGXCPU:
            return Extraction.failed(
                "extract_timeout", f"extraction used more than {2 * self.limits.timeout_s + 5:g} s of CPU time"
            )
        how = f"signal {signal.Signals(-status).name}" if status is not None and status < 0 else f"exit status {status}"
        return Extraction.failed("extract_crashed", f"the extraction worker died ({how})")

    @staticmethod
    def _end(in_flight: list[tuple[Future, Future]], reason: str, message: str) -> None:
        for result, task in in_flight:
            task.cancel()  # pebble stops a worker whose page is cancelled
            try:
                result.set_result(Extraction.failed(reason, message))
            except InvalidStateError:  # pebble answered meanwhile
                pass

    def interrupt(self, reason: str) -> int:
        """End every extraction in flight, and every later one, as extract_interrupted; returns how many ended."""
        self._interrupted = reason
        with self._lock:
            in_flight = list(self._in_flight.items())
            self._in_flight.clear()
        self._end(in_flight, "extract_interrupted", reason)
        return len(in_flight)

    def close(self) -> None:
        """Stop the workers (ending what is in flight as extract_interrupted); the sandbox can be used again."""
        self.interrupt("the extraction pool was closed")
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            _shut(pool)
        self._interrupted = None


def _shut(pool: ProcessPool) -> None:
    pool.stop()
    pool.join()  # workers die at once on SIGTERM; join reaps them
