"""Database URLs that cannot work: DatabaseURLError naming the wrong part, password masked, exit 2.

Checked by storage.db.resolve_database_url, which the storage CLI and the crawler both use.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from storage.db import DatabaseURLError, mask_url, resolve_database_url
from tests.helpers import PROJECT_DIR, run_crawler, run_scrapy, run_storage

PASSWORD = "s3cret-Passw0rd"

BAD_URLS = [
    (f"postgresq://u:{PASSWORD}@127.0.0.1/db", "unsupported database 'postgresq'", "sqlite or postgresql"),
    (f"mysql://u:{PASSWORD}@127.0.0.1/db", "unsupported database 'mysql'", "sqlite or postgresql"),
    (f"postgresql+nosuch://u:{PASSWORD}@127.0.0.1/db", "unsupported driver 'nosuch' for postgresql", "uses psycopg"),
    (f"postgresql+psycopg2://u:{PASSWORD}@127.0.0.1/db", "unsupported driver 'psycopg2'", "postgresql+psycopg://"),
    ("sqlite+pysqlcipher:///x.db", "unsupported driver 'pysqlcipher' for sqlite", "uses pysqlite"),
    (f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/db", "is not a number: 'notaport'", "from 1 to 65535"),
    (f"postgresql://u:{PASSWORD}@[::1]:port/db", "is not a number: 'port'", "from 1 to 65535"),
    (f"postgresql://u:{PASSWORD}@127.0.0.1:99999/db", "is out of range: 99999", "from 1 to 65535"),
    (f"postgresql://u:{PASSWORD}@127.0.0.1:0/db", "is out of range: 0", "from 1 to 65535"),
    (f"sqlite://u:{PASSWORD}@host/x.db", "takes no host, port, user or password", "sqlite:///"),
    ("not a url", "not a database URL", "sqlite:///path/to/file.db"),
]


@pytest.mark.parametrize(("url", "wrong", "advice"), BAD_URLS)
def test_bad_urls_name_the_wrong_part(url, wrong, advice):
    with pytest.raises(DatabaseURLError) as caught:
        resolve_database_url(url)
    message = str(caught.value)
    assert wrong in message and advice in message
    assert PASSWORD not in message


@pytest.mark.parametrize(("url", "wrong", "advice"), BAD_URLS)
@pytest.mark.parametrize("command", ["count", "upgrade"])
def test_the_storage_cli_exits_2_on_bad_urls(url, wrong, advice, command):
    result = run_storage(command, "--database-url", url)
    assert result.returncode == 2, result.stderr
    assert wrong in result.stderr and "Traceback" not in result.stderr
    assert PASSWORD not in result.stderr


def test_the_storage_cli_exits_2_on_a_bad_database_url_in_the_environment():
    result = subprocess.run(
        [sys.executable, "-m", "storage", "count"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"mysql://u:{PASSWORD}@h/db"},
    )  # fmt: skip
    assert result.returncode == 2 and "unsupported database 'mysql'" in result.stderr, result.stderr
    assert PASSWORD not in result.stderr


def test_a_driver_that_is_not_installed_is_named():
    # the import system's own way to make a module unimportable, as if psycopg were not installed
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from storage.cli import main\n"
        f"sys.exit(main(['count', '--database-url', 'postgresql://u:{PASSWORD}@127.0.0.1/db']))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "the postgresql driver psycopg is not installed" in result.stderr
    assert "pip install -r requirements.txt" in result.stderr and PASSWORD not in result.stderr


def test_the_crawler_exits_2_on_a_bad_url(tmp_path):
    result = run_crawler("run", "sina_finance", "--database-url", f"postgresql://u:{PASSWORD}@127.0.0.1:99999/db")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "is out of range: 99999" in result.stderr and PASSWORD not in result.stderr


def test_good_urls_resolve():
    assert resolve_database_url("postgres://u:pw@h:5432/db") == "postgresql+psycopg://u:pw@h:5432/db"
    assert resolve_database_url("postgresql+psycopg:///db") == "postgresql+psycopg:///db"
    assert resolve_database_url("sqlite:///relative.db") == "sqlite:///relative.db"
    assert resolve_database_url("sqlite+pysqlite:////tmp/x.db") == "sqlite+pysqlite:////tmp/x.db"


def test_unparseable_urls_are_masked_too():
    assert mask_url(f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/db") == "postgresql://u:***@127.0.0.1:notaport/db"
    assert mask_url("postgresql://u:p@ss@h:x/db") == "postgresql://u:***@h:x/db"


def test_scrapy_crawl_exits_2_on_a_bad_url_in_one_line(tmp_path):
    result = run_scrapy("crawl", "sina_finance", "-s", f"DATABASE_URL=postgresq://u:{PASSWORD}@127.0.0.1/db")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "the crawl cannot start: unsupported database 'postgresq'" in result.stderr
    assert PASSWORD not in result.stderr and "Traceback" not in result.stderr
