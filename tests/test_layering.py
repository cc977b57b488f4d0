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
