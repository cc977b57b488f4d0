"""House rules: extractors import neither Scrapy nor SQLAlchemy; storage imports no Scrapy."""

import subprocess
import sys

import pytest

from tests.helpers import PROJECT_DIR


@pytest.mark.parametrize(("package", "forbidden"), [("extractors", ("scrapy", "sqlalchemy")), ("storage", ("scrapy",))])
def test_package_does_not_import(package, forbidden):
    code = f"import sys, {package}\nprint(','.join(m for m in sys.modules if m.split('.')[0] in {forbidden!r}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_crawler_writes_only_through_storage_functions():
    """No module under crawler/ imports storage's tables or SQLAlchemy's statement builders (issue 11)."""
    import ast

    offenders = []
    for path in sorted((PROJECT_DIR / "crawler").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {alias.name for alias in node.names}
                if node.module == "storage.models" or (
                    node.module.split(".")[0] == "sqlalchemy" and names & {"select", "insert", "update", "delete"}
                ):
                    offenders.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno} from {node.module} import {sorted(names)}")
    assert offenders == []
