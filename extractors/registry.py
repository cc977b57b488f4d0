"""Finds the SiteRule for a URL; every module in extractors/sites/ defines RULE."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from extractors import sites
from extractors.article import GENERIC_SITE
from extractors.rules import SiteRule


@cache
def all_rules() -> tuple[SiteRule, ...]:
    rules = []
    for info in sorted(pkgutil.iter_modules(sites.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{sites.__name__}.{info.name}")
        rules.append(module.RULE)
    return tuple(rules)


def rule_for(url: str) -> SiteRule | None:
    for rule in all_rules():
        if rule.handles(url):
            return rule
    return None


def rule_named(name: str) -> SiteRule:
    for rule in all_rules():
        if rule.name == name:
            return rule
    raise KeyError(f"no site rule named {name!r}; known: {', '.join(r.name for r in all_rules())}")


@cache
def site_names() -> frozenset[str]:
    """Every name an article can be stored under: each rule's name, and GENERIC_SITE for the pages no rule handles."""
    return frozenset(rule.name for rule in all_rules()) | {GENERIC_SITE}


def reported_site(name: str) -> str:
    """The site a name is read as: a site's name as it is; anything else (the host name crawls and older
    run records gave the pages no rule handles, "www.xinhuanet.com") GENERIC_SITE."""
    return name if name in site_names() else GENERIC_SITE
