"""Synthetic articles for the storage benchmarks: the fixtures' expected texts recombined.

Paragraphs of three sources shuffled together, a numbered title, a site out of ten, a time within two years (+08:00)
and 0–3 symbols out of 2,000 (a few symbols are in many articles, most in few). Everything is drawn from a fixed seed,
so two runs store the same articles.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from extractors import Article, Image

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SEED = 20261126
CST = timezone(timedelta(hours=8))
START = datetime(2024, 1, 1, tzinfo=CST)
SPAN_DAYS = 730
SITES = {
    "sina": "finance.sina.com.cn",
    "sina_mobile": "finance.sina.cn",
    "netease": "money.163.com",
    "ifeng": "finance.ifeng.com",
    "sohu": "www.sohu.com",
    "qq": "new.qq.com",
    "thepaper": "www.thepaper.cn",
    "stcn": "www.stcn.com",
    "yahoo_hk": "hk.finance.yahoo.com",
    "caijing": "finance.caijing.com.cn",
}


@dataclass(frozen=True)
class Sources:
    """The texts to recombine: one paragraph list per fixture, and the metadata seen in them."""

    documents: list[list[str]]
    titles: list[str]
    outlets: list[str]
    authors: list[str]
    editors: list[str]


def load_sources(fixtures_dir: Path = FIXTURES_DIR) -> Sources:
    documents, titles, outlets, authors, editors = [], [], set(), set(), set()
    for path in sorted(fixtures_dir.glob("*/*.json")):
        expected = json.loads(path.read_text(encoding="utf-8")).get("expected")
        if not isinstance(expected, dict) or not expected.get("body"):
            continue
        documents.append([line for line in expected["body"].split("\n") if line.strip()])
        if expected.get("title"):
            titles.append(expected["title"])
        outlets.update(filter(None, [expected.get("source")]))
        authors.update(expected.get("authors") or [])
        editors.update(filter(None, [expected.get("editor")]))
    if not documents or not titles:
        raise FileNotFoundError(f"no fixture with an expected title and body under {fixtures_dir}")
    return Sources(documents, titles, sorted(outlets) or ["新华社"], sorted(authors) or ["记者"], sorted(editors) or ["编辑"])


def symbol_pool(size: int = 2000, seed: int = SEED) -> list[str]:
    """Shanghai, Shenzhen (main board and ChiNext) and Hong Kong codes, in a fixed shuffled order."""
    shares = [size * 4 // 10, size * 35 // 100, size * 15 // 100]
    codes = [f"sh{600000 + 3 * k}" for k in range(shares[0])]
    codes += [f"sz{1 + 2 * k:06d}" for k in range(shares[1])]
    codes += [f"sz{300001 + k}" for k in range(shares[2])]
    codes += [f"hk{1 + 7 * k:05d}" for k in range(size - len(codes))]
    random.Random(seed).shuffle(codes)
    return codes


def draw_symbol(rng: random.Random, pool: list[str]) -> str:
    """Skewed: the first symbol of the pool is in about 2% of the draws, the median one in 0.03%."""
    return pool[int(len(pool) * rng.random() ** 2)]


class Synthesizer:
    """Distinct articles, article i always the same for a given seed and sources."""

    def __init__(self, sources: Sources, seed: int = SEED, symbols: list[str] | None = None) -> None:
        self.sources = sources
        self.rng = random.Random(seed)
        self.symbols = symbols or symbol_pool(seed=seed)
        self.next_number = 0

    def article(self, number: int) -> Article:
        rng, src = self.rng, self.sources
        site = rng.choice(list(SITES))
        published_at = START + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        paragraphs = [p for doc in rng.sample(src.documents, min(3, len(src.documents))) for p in doc]
        rng.shuffle(paragraphs)
        body_lines = paragraphs[: rng.randint(4, 14)] + [f"（稿件编号 {number:07d}）"]
        path = f"{published_at:%Y/%m%d}/{number:08x}.html"
        url = f"https://{SITES[site]}/{path}"
        return Article(
            url=url + "?from=bench",
            canonical_url=url,
            title=f"{rng.choice(src.titles)}（{number}）",
            published_at=published_at,
            source=rng.choice(src.outlets),
            authors=rng.sample(src.authors, min(rng.randint(0, 2), len(src.authors))),
            editor=rng.choice(src.editors) if rng.random() < 0.6 else None,
            body="\n".join(body_lines),
            images=[Image(f"https://img.{SITES[site]}/{number:08x}-{k}.jpg", None) for k in range(rng.randint(0, 2))],
            symbols=sorted({draw_symbol(rng, self.symbols) for _ in range(rng.randint(0, 3))}),
            site=site,
            extractor=f"{site}/v2024@1",
        )

    def batch(self, start: int, stop: int) -> list[Article]:
        """Articles start..stop-1; call with consecutive ranges from 0 (the draws are sequential)."""
        if start != self.next_number:
            raise ValueError(f"articles are drawn in order: next is {self.next_number}, not {start}")
        self.next_number = stop
        return [self.article(n) for n in range(start, stop)]



def fetched_at(article: Article) -> datetime:
    """When the benchmark says an article was fetched: five minutes after it was published."""
    return article.published_at + timedelta(minutes=5)
