"""The page sets the benchmark runs on: corpus, fixtures and aeb.

Each loader yields Cases: the page bytes as fetched, the URL to extract with,
the site key its row goes to, the tokenisation to score it with, and the Truth.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.metric import Tokenization
from benchmarks.truth import Truth, corpus_truth, fixture_truth

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES_DIR = PROJECT_DIR / "tests" / "fixtures"
# shared/ sits beside the checkout (as in CI); $CAIXUN_SHARED_DIR points elsewhere
SHARED_DIR = Path(os.environ.get("CAIXUN_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
SUITES: tuple[str, ...] = ("corpus", "fixtures", "aeb")


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
        if entry.get("kind") != "article" or not entry.get("gt"):
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


def fixture_cases(fixtures_dir: Path = FIXTURES_DIR) -> Iterator[Case]:
    """Article fixtures with a non-empty "expected"; fixtures being written (unreadable, no page) are skipped."""
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
            suite="fixtures",
            site=site,
            page_id=str(path.relative_to(fixtures_dir).with_suffix("")),
            url=meta.get("url") or expected.get("url") or f"http://{site}.invalid/",
            html=html,
            truth=fixture_truth(expected),
            tokenization="cjk",
            chinese=True,
        )


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


def load_cases(suite: str, *, shared_dir: Path = SHARED_DIR, fixtures_dir: Path = FIXTURES_DIR) -> list[Case]:
    if suite == "corpus":
        return list(corpus_cases(shared_dir))
    if suite == "fixtures":
        return list(fixture_cases(fixtures_dir))
    if suite == "aeb":
        return list(aeb_cases(shared_dir))
    raise ValueError(f"unknown suite {suite!r}; use one of {SUITES}")
