"""Site rules are well-formed, and every layout of every rule is exercised by a fixture page."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from extractors import Page, all_rules, extract, rule_for, sites
from tests.helpers import fixtures


def test_every_site_module_defines_a_rule():
    modules = [m.name for m in pkgutil.iter_modules(sites.__path__)]
    assert modules, "no site modules"
    for name in modules:
        rule = importlib.import_module(f"extractors.sites.{name}").RULE
        assert rule.name and rule.domains and rule.version >= 1, name
        # a site without layouts (eastmoney, yicai: no page recorded) is extracted by the generic path;
        # it is in the registry for its sources, so it must have some
        assert rule.layouts or rule.sources, f"{name}: neither layouts nor sources"


def test_rule_names_and_domains_are_unique():
    rules = all_rules()
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        for other in rules:
            if other is not rule:
                for domain in rule.domains:
                    assert not other.handles(f"https://{domain}/x"), f"{domain} is claimed by {rule.name} and {other.name}"


def test_rules_are_found_by_host_and_not_by_lookalikes():
    assert rule_for("https://finance.sina.com.cn/roll/2019-09-09/doc-iicezzrq4681677.shtml").name == "sina"
    assert rule_for("https://money.163.com/15/0703/04/ATIQQ87C00253B0H.html").name == "netease"
    assert rule_for("https://sina.com.cn.example.org/doc-iicezzrq4681677.shtml") is None
    assert rule_for("https://example.com/") is None


@pytest.fixture(scope="module")
def layouts_used() -> set[str]:
    used = set()
    for fixture in fixtures(kind="article"):
        used.add(extract(Page(fixture.url, fixture.body)).extractor.split("@")[0])
    return used


@pytest.mark.parametrize(
    "layout_key", [f"{r.name}/{layout.name}" for r in all_rules() for layout in r.layouts], ids=str
)
def test_every_layout_has_a_fixture(layout_key, layouts_used):
    assert layout_key in layouts_used, f"no fixture page is extracted by {layout_key}: add one or drop the layout"
