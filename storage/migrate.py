"""Schema versions with Alembic: upgrade any database, refuse to write to an outdated one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_RELEASE = "0001"  # databases made before migrations existed have this schema
SCHEMA_LOCK_KEY = 0x63616978756E  # PostgreSQL advisory lock held while a schema is created or upgraded ("caixun")


class OutdatedSchema(RuntimeError):
    """The database schema is older (or newer) than this code expects."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema; returns (revision before, revision after)."""
    with engine.begin() as connection:
        _lock_schema(connection)
        before = _upgrade(connection, revision)
    return before, current_revision(engine)


def _lock_schema(connection) -> None:
    """On PostgreSQL, hold the schema lock until the transaction ends: workers started together on an empty
    database would each create the schema; the first to come does, the others then find it made."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def _upgrade(connection, revision: str) -> str | None:
    """Upgrade in the connection's transaction; returns the revision before."""
    config = _config()
    before = MigrationContext.configure(connection).get_current_revision()
    config.attributes["connection"] = connection
    if before is None and inspect(connection).has_table("articles"):
        command.stamp(config, FIRST_RELEASE)  # made by the first release, before Alembic
        before = FIRST_RELEASE
    command.upgrade(config, revision)
    return before


def downgrade(engine: Engine, revision: str) -> str | None:
    """Take the schema back to an earlier revision; returns the revision reached."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return current_revision(engine)


def ensure_schema(engine: Engine, display_url: str) -> None:
    """Create the schema in an empty database; refuse one at another revision.

    An outdated database is not upgraded behind the operator's back: a crawl
    may be one of several writers, and an upgrade is a decision.
    """
    head = head_revision()
    if current_revision(engine) == head:
        return
    with engine.begin() as connection:  # look again under the lock: another process may be making it now
        _lock_schema(connection)
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        if current is None and not inspect(connection).has_table("articles"):
            _upgrade(connection, "head")
            return
    raise OutdatedSchema(
        f"the database {display_url} has schema revision {current or 'from before migrations'}, "
        f"this caixun needs {head}: run  python -m storage upgrade --database-url '{display_url}'"
    )
