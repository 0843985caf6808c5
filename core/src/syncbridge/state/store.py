"""Opening the state store: SQLite file (mode 0600) by default, any SQLAlchemy URL otherwise.

The schema is versioned with alembic: opening a store upgrades an older one in place and
refuses one written by a newer syncbridge, so a state file is never misread.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from syncbridge.errors import ConfigError, SyncbridgeError

MIGRATIONS = Path(__file__).parent / "migrations"

#: seconds to wait for a state database server to accept a connection: a host that is down
#: or firewalled would otherwise hold a command for the operating system's TCP timeout
CONNECT_TIMEOUT = 5


class StateStoreError(SyncbridgeError):
    """The state store cannot be opened: the message names it (password masked) and the fix."""


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, as every message shows a state store."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<an unparseable URL>"


def unreachable(url: str | URL, error: BaseException) -> StateStoreError:
    """Why the state store at ``url`` could not be opened, as one sentence with the fix.

    Only the driver's own first line is quoted (``database "x" does not exist``, ``Connection
    refused``): SQLAlchemy's text would add the statement and its parameters.
    """
    cause: BaseException = error
    if isinstance(error, DBAPIError) and error.orig is not None:
        cause = error.orig
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(cause).__name__
    reason = " ".join(reason.removeprefix("connection failed: ").replace("FATAL:", "").split())
    if isinstance(error, OSError) and error.strerror:
        reason = f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return StateStoreError(
        f"state.url: cannot open the state store {safe_url(url)}: {reason}; check that the "
        "database server is running and that [state] url names a database that exists"
    )


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _prepare_sqlite_file(path: Path) -> None:
    """Create the file with mode 0600 before SQLite does (it would use the umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(descriptor)
    os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite state store, None for an in-memory or a server one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


#: a tenant's schema name: lower-case letters, digits and underscores (quoted nowhere)
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def create_state_engine(url: str, schema: str | None = None) -> Engine:
    """The engine of the store at ``url``; with ``schema`` (PostgreSQL only), one whose every
    connection starts with that schema alone on its search path, set by the server when the
    connection opens: no statement, not even a hand-written one, can reach another tenant's
    tables, and no pooled connection can carry one tenant's path into another's work."""
    if schema is not None:
        return _schema_engine(url, schema)
    if make_url(url).get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if database is not None:
            _prepare_sqlite_file(database)
            # the WAL and shared-memory files hold the same data: same mode
            for suffix in ("-wal", "-shm"):
                extra = Path(f"{database}{suffix}")
                if extra.exists():
                    os.chmod(extra, 0o600)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    server = parsed.get_backend_name() in ("postgresql", "mysql", "mariadb")
    if server and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


#: tenants' schemas this process has created or brought to the current revision: a worker
#: reopens a tenant's store often (its workspace left the cache), and asking the database
#: again each time (creating the schema, reading the revision, loading the migration scripts)
#: cost 80 ms of every such run; a schema never goes back to an older revision
_SCHEMAS_AT_HEAD: set[tuple[str, str]] = set()


def _schema_engine(url: str, schema: str, *, create: bool = True) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"state.url: tenants need a PostgreSQL state store (a schema per tenant); "
            f"{safe_url(url)} is {parsed.get_backend_name()}"
        )
    if not SCHEMA_NAME.match(schema):
        raise ConfigError(
            f"tenant schema {schema!r}: use lower-case letters, digits and underscores"
        )
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    if not create:
        return _pooled_schema_engine(url, schema, connect_args)
    setup = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with setup.begin() as db:
            # two workers opening a new tenant at once: IF NOT EXISTS alone still races
            db.exec_driver_sql(f"SELECT pg_advisory_xact_lock(hashtext('syncbridge:{schema}'))")
            db.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    finally:
        setup.dispose()
    return _pooled_schema_engine(url, schema, connect_args)


def _pooled_schema_engine(url: str, schema: str, connect_args: dict[str, Any]) -> Engine:
    connect_args = {**connect_args, "options": f"-c search_path={schema}"}
    # a worker holds the stores of the tenants it ran lately: a small pool each, so that
    # many tenants' stores do not add up to more connections than the server allows. No
    # ping before each use (a run checks out a connection some twenty times): a connection
    # the server dropped fails its run, which is retried at the next turn, and is replaced
    return create_engine(
        url, pool_size=1, max_overflow=4, pool_recycle=600, connect_args=connect_args
    )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def open_engine(url: str, schema: str | None = None) -> Engine:
    """The engine of the state store at ``url`` (in its ``schema``: a tenant's), its tables
    brought to the current revision.

    A store that cannot be reached, or a file that cannot be created, is a
    :class:`StateStoreError` naming the store, never a driver traceback.
    """
    engine: Engine | None = None
    try:
        if schema is not None and (url, schema) in _SCHEMAS_AT_HEAD:
            return _schema_engine(url, schema, create=False)
        engine = create_state_engine(url, schema)
        migrate(engine)
        if schema is not None:
            _SCHEMAS_AT_HEAD.add((url, schema))
    except (SQLAlchemyError, OSError) as error:
        if engine is not None:
            engine.dispose()
        raise unreachable(url, error) from error
    return engine


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; refuse a store written by a newer syncbridge."""
    script = ScriptDirectory.from_config(_alembic_config())
    current = current_revision(engine)
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise ConfigError(
            f"state.url: this state store has schema revision {current}, written by a newer "
            f"syncbridge (this one knows up to {script.get_current_head()}); upgrade syncbridge"
        )
    if revision == "head" and current == script.get_current_head():
        return
    config = _alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # processes opening one store at once upgrade it in turn: alembic reads the
            # revision again after the lock, and finds nothing left to do
            connection.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtext('syncbridge-migrate:' || current_schema()))"
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
