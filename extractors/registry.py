"""Finds the SiteRule for a URL; every module in extractors/sites/ defines RULE."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from extractors import sites
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
