"""The page sets the benchmark runs on: corpus, fixtures, aeb (the development
split) and holdout (the test split).

Each loader yields Cases: the page bytes as fetched, the URL to extract with,
the site key its row goes to, the tokenisation to score it with, and the Truth.
Rules are written from development pages only; the holdout pages
(tests/holdout/, and the corpus pages of TEST_SPLIT_CORPUS_PAGES) are only scored.
"""

from __future__ import annotations

import gzip
import fnmatch
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.metric import Tokenization
from benchmarks.truth import Truth, corpus_truth, fixture_truth

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES_DIR = PROJECT_DIR / "tests" / "fixtures"
# shared/ sits beside the checkout (as in CI); $CAIXUN_SHARED_DIR points elsewhere
SHARED_DIR = Path(os.environ.get("CAIXUN_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
HOLDOUT_DIR = PROJECT_DIR / "tests" / "holdout"
SUITES: tuple[str, ...] = ("corpus", "fixtures", "aeb", "holdout")
SPLITS: dict[str, tuple[str, ...]] = {"dev": ("corpus", "fixtures", "aeb"), "test": ("holdout",)}
# corpus pages of the test split (tests/holdout/ holds them as labelled fixtures): no development suite may use them
TEST_SPLIT_CORPUS_PAGES: tuple[str, ...] = (
    "corpus/raw/sina/news_2018_o_ifxeuwwr9050078.html",
    "corpus/raw/sina/news_2018_o_ifxeuwwr9208688.html",
    "corpus/raw/sina/news_2018_c_ifxeuwwr9247791.html",
    "corpus/raw/sina_mobile/k_2018_article_6598441619_1894c3a9300100elpc.html",
    "corpus/raw/163/news_2019_*_dom.html",
)


def split_of(suite: str) -> str:
    return next(split for split, suites in SPLITS.items() if suite in suites)


def is_test_corpus_page(file: str) -> bool:
    """Whether a manifest "file" (raw/<site>/<name>) is a test-split page."""
    return any(fnmatch.fnmatch(f"corpus/{file}", pattern) for pattern in TEST_SPLIT_CORPUS_PAGES)


@dataclass
class Case:
    """One page to extract and score."""

    suite: str
    site: str
    page_id: str  # path under the suite's root, or the AEB id
    url: str
    html: bytes
    truth: Truth
    tokenization: Tokenization
    chinese: bool  # Chinese boilerplate patterns apply to its leaks
    kind_of_page: str | None = None  # holdout: "syndicated" for a copy of a Sina article on another site, …


def strip_cleaneval(body: bytes) -> bytes:
    """Drop the CleanEval envelope: the first line (<text …>) and the last line (</text>)."""
    first_newline = body.find(b"\n")
    if not body.lstrip().startswith(b"<text") or first_newline < 0:
        return body
    rest = body[first_newline + 1 :]
    trimmed = rest.rstrip(b"\r\n")
    last_newline = trimmed.rfind(b"\n")
    if trimmed[last_newline + 1 :].strip().startswith(b"</text"):
        return trimmed[:last_newline]
    return rest


def corpus_cases(shared_dir: Path = SHARED_DIR) -> Iterator[Case]:
    """Article pages of shared/corpus/manifest.json that have ground truth."""
    root = shared_dir / "corpus"
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest:
        if entry.get("kind") != "article" or not entry.get("gt") or is_test_corpus_page(entry["file"]):
            continue
        site = entry["site"]
        html = (root / entry["file"]).read_bytes()
        if entry.get("capture") == "cleaneval-wrapped":
            html = strip_cleaneval(html)
        gt = json.loads((root / entry["gt"]).read_text(encoding="utf-8"))
        yield Case(
            suite="corpus",
            site=site,
            page_id=entry["file"],
            url=entry.get("url") or f"http://{site}.invalid/",
            html=html,
            truth=corpus_truth(gt),
            tokenization="cjk",
            chinese=True,
        )


def fixture_cases(fixtures_dir: Path = FIXTURES_DIR, suite: str = "fixtures") -> Iterator[Case]:
    """Article fixtures with a non-empty "expected"; fixtures being written (unreadable, no page) are skipped.

    The same format serves tests/fixtures (suite "fixtures") and tests/holdout (suite "holdout").
    """
    for path in sorted(fixtures_dir.glob("*/*.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("fixture %s skipped: %s", path.relative_to(fixtures_dir), exc)
            continue
        expected = meta.get("expected")
        if meta.get("kind") != "article" or not isinstance(expected, dict) or not expected:
            continue
        page = path.with_name(path.name[: -len(".json")] + ".html.gz")
        try:
            html = gzip.decompress(page.read_bytes())
        except (OSError, EOFError) as exc:
            logger.warning("fixture %s skipped: %s", path.relative_to(fixtures_dir), exc)
            continue
        site = path.parent.name
        yield Case(
            suite=suite,
            site=site,
            page_id=str(path.relative_to(fixtures_dir).with_suffix("")),
            url=meta.get("url") or expected.get("url") or f"http://{site}.invalid/",
            html=html,
            truth=replace(fixture_truth(expected), must_not_contain=tuple(meta.get("must_not_contain", ()))),
            tokenization="cjk",
            chinese=True,
            kind_of_page=meta.get("kind_of_page"),
        )


def not_article_pages(fixtures_dir: Path) -> list[tuple[str, str, bytes]]:
    """(page id, URL, bytes) of the pages labelled "kind": "not_article" (video-only, galleries…)."""
    pages = []
    for path in sorted(fixtures_dir.glob("*/*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("kind") == "not_article":
            html = gzip.decompress(path.with_name(path.name[: -len(".json")] + ".html.gz").read_bytes())
            pages.append((str(path.relative_to(fixtures_dir).with_suffix("")), meta["url"], html))
    return pages


def aeb_cases(shared_dir: Path = SHARED_DIR) -> Iterator[Case]:
    """The 181 pages of the ScrapingHub article-extraction benchmark (body only, "aeb" tokens)."""
    root = shared_dir / "benchmarks" / "scrapinghub-aeb"
    ground_truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id in sorted(ground_truth):
        record = ground_truth[page_id]
        yield Case(
            suite="aeb",
            site="aeb",
            page_id=page_id,
            url=record.get("url") or "http://aeb.invalid/",
            html=gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()),
            truth=Truth(body=record.get("articleBody") or ""),
            tokenization="aeb",
            chinese=False,
        )


def load_cases(
    suite: str, *, shared_dir: Path = SHARED_DIR, fixtures_dir: Path = FIXTURES_DIR, holdout_dir: Path = HOLDOUT_DIR
) -> list[Case]:
    if suite == "corpus":
        return list(corpus_cases(shared_dir))
    if suite == "fixtures":
        return list(fixture_cases(fixtures_dir))
    if suite == "holdout":
        if not holdout_dir.is_dir():
            raise FileNotFoundError(2, "no holdout pages", str(holdout_dir))
        return list(fixture_cases(holdout_dir, suite="holdout"))
    if suite == "aeb":
        return list(aeb_cases(shared_dir))
    raise ValueError(f"unknown suite {suite!r}; use one of {SUITES}")
