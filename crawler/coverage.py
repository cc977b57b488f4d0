"""Field coverage of a run: the share of its articles with a title, body, time and source.

A template change shows as a field that suddenly goes missing, so a run whose
coverage falls below a threshold fails and names the fields and sample URLs.

Settings read:
  CAIXUN_COVERAGE_THRESHOLDS     {field: minimum share}; default title and body 0.99, published_at 0.95
  CAIXUN_COVERAGE_MIN_ARTICLES   judge only runs with at least this many articles (default 10)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors import Article
from storage.runs import COVERAGE_FIELDS as FIELDS
SAMPLE_URLS = 5


@dataclass
class Coverage:
    articles: int = 0
    present: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    missing_samples: dict[str, list[str]] = field(default_factory=lambda: {f: [] for f in FIELDS})

    def add_missing(self, url: str) -> None:
        """An article URL that gave no article: every field missing."""
        self.add(Article(url=url))

    def add(self, article: Article) -> None:
        self.articles += 1
        for name in FIELDS:
            if getattr(article, name):
                self.present[name] += 1
            elif len(self.missing_samples[name]) < SAMPLE_URLS:
                self.missing_samples[name].append(article.url)

    def merge(self, other: Coverage) -> None:
        self.articles += other.articles
        for name in FIELDS:
            self.present[name] += other.present[name]
            room = SAMPLE_URLS - len(self.missing_samples[name])
            self.missing_samples[name].extend(other.missing_samples[name][:room])

    def shares(self) -> dict[str, float]:
        return {name: round(self.present[name] / self.articles, 4) if self.articles else 1.0 for name in FIELDS}

    def as_record(self) -> dict:
        """What crawl_runs.coverage stores."""
        return {"articles": self.articles, **self.shares(), "missing_samples": {k: v for k, v in self.missing_samples.items() if v}}

    def shortfalls(self, thresholds: dict[str, float], min_articles: int) -> list[str]:
        """One message per field under its threshold, with sample URLs; [] when fine or too few to judge."""
        if self.articles < max(min_articles, 1):
            return []
        shares = self.shares()
        return [
            f"{name} {shares[name]:.1%} < {minimum:.0%} (e.g. {', '.join(self.missing_samples[name])})"
            for name, minimum in thresholds.items()
            if name in shares and shares[name] < minimum
        ]
