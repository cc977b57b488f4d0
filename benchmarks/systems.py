"""The two systems compared, each timed from page bytes to body text.

- caixun: ``extract(Page(url, raw_bytes))``; NotAnArticle gives an empty body.
- trafilatura: the page decoded as our extractor decodes it
  (``extractors.decoding.decode_html``), then ``trafilatura.extract(text,
  url=url)`` with its defaults; no output gives an empty body.

Both timings include decoding, so both start from the same bytes.
An exception inside a system is recorded on the page (empty body), not raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import trafilatura

from benchmarks.suites import Case
from extractors import NotAnArticle, Page, extract
from extractors.article import Article
from extractors.decoding import decode_html

SYSTEMS: tuple[str, ...] = ("caixun", "trafilatura")


@dataclass
class Prediction:
    """What a system gave for one page, and how long it took."""

    body: str
    ms: float
    extractor: str  # caixun: Article.extractor ("" when nothing was extracted); trafilatura: its version
    error: str | None = None
    article: Article | None = None

    @property
    def site_rule(self) -> bool:
        """Handled by a site rule (not the generic path)."""
        return bool(self.extractor) and not self.extractor.startswith(("generic", "trafilatura"))


def run_caixun(case: Case, *, generic_only: bool = False) -> Prediction:
    start = time.perf_counter()
    error = None
    article = None
    try:
        article = extract(Page(case.url, case.html), generic_only=generic_only)
    except NotAnArticle as exc:
        error = f"NotAnArticle: {exc}"
    except Exception as exc:  # an extractor bug is a result, not a harness failure
        error = f"{type(exc).__name__}: {exc}"
    ms = (time.perf_counter() - start) * 1000
    if article is None:
        return Prediction(body="", ms=ms, extractor="", error=error)
    return Prediction(body=article.body or "", ms=ms, extractor=article.extractor, article=article)


def run_trafilatura(case: Case) -> Prediction:
    start = time.perf_counter()
    error = None
    body = ""
    try:
        text = decode_html(case.html).text
        body = trafilatura.extract(text, url=case.url) or ""
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    ms = (time.perf_counter() - start) * 1000
    return Prediction(body=body, ms=ms, extractor=f"trafilatura-{trafilatura.__version__}", error=error)


RUNNERS = {"caixun": run_caixun, "trafilatura": run_trafilatura}


def predicted_field(prediction: Prediction, name: str) -> Any:
    """A metadata field of our Article (None / [] when nothing was extracted)."""
    if prediction.article is None:
        return [] if name == "authors" else None
    return getattr(prediction.article, name)


def warm_up(case: Case) -> None:
    """Run both systems once, untimed, so lazy imports and caches do not count against the first page."""
    for runner in RUNNERS.values():
        runner(case)
