"""Pure extraction: (bytes or str, URL) in, an Article out. No Scrapy, no database."""

from extractors.article import Article, Image, NotAnArticle
from extractors.extract import Page, extract
from extractors.registry import all_rules, rule_for, rule_named

__all__ = ["Article", "Image", "NotAnArticle", "Page", "extract", "all_rules", "rule_for", "rule_named"]
