"""Engine, sessions and migrations: SQLite by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import ARRAY, Engine, Table, any_, event, literal
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent


def shipped(name: str) -> Path:
    """templates/ or migrations/: inside the installed package (a wheel carries them
    there, see setup.py), else at the top of the checkout."""
    inside = PACKAGE_ROOT / name
    return inside if inside.is_dir() else REPO_ROOT / name


MIGRATIONS = shipped("migrations")


@dataclass(frozen=True)
class PoolSize:
    """A process's PostgreSQL connections: kept open, opened beyond that under load,
    waited for (seconds) when all are taken, and replaced after `recycle` seconds."""

    size: int = 5
    overflow: int = 5
    timeout: float = 10.0
    recycle: int = 1800


def make_engine(url: str, pool: PoolSize | None = None) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    pool = pool or PoolSize()
    # Pre-ping: a connection the server dropped while it sat in the pool (a restart, an
    # idle timeout) is replaced before a request gets it.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout,
        pool_recycle=pool.recycle,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so SAVEPOINTs work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A writer takes the write lock as it begins, so it waits its turn (busy timeout)
        # instead of failing "database is locked" when another process wrote after its
        # first read (a deferred transaction cannot wait for that).
        writer = connection.get_execution_options().get(WRITER)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


WRITER = "tributary_writer"


class Database:
    """The application's engine and session factory."""

    def __init__(self, url: str, pool: PoolSize | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, pool)
        self.unbind()

    def bind_to(self, connection: Connection) -> None:
        """Run every session inside an outer transaction (tests roll it back afterwards)."""
        self._readers = self._writers = sessionmaker(
            bind=connection,
            class_=Session,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )

    def unbind(self) -> None:
        self._readers = sessionmaker(bind=self.engine, class_=Session, expire_on_commit=False)
        self._writers = sessionmaker(
            bind=self.engine.execution_options(**{WRITER: True}),
            class_=Session,
            expire_on_commit=False,
        )

    def session(self, *, writer: bool = False) -> Session:
        """A session; a writer's transactions wait for the SQLite write lock as they begin."""
        return (self._writers if writer else self._readers)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writer session whose work is committed on success and rolled back on error."""
        session = self.session(writer=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # Migrations (Alembic is imported only here: most processes never migrate) ----------

    def alembic_config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        with self.engine.begin() as connection:
            config = self.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def downgrade(self, revision: str) -> None:
        from alembic import command

        with self.engine.begin() as connection:
            config = self.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

    def head_revision(self) -> str | None:
        """The code's newest migration (read from the migration files once: they do not
        change under a running process)."""
        if not hasattr(self, "_head"):
            from alembic.script import ScriptDirectory

            self._head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        return self._head

    def current_revision(self, connection: Connection | None = None) -> str | None:
        """The database's migration, read on `connection` (a request's own) or a pooled one."""
        from alembic.runtime.migration import MigrationContext

        if connection is not None:
            return MigrationContext.configure(connection).get_current_revision()
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def is_migrated(self) -> bool:
        return self.current_revision() == self.head_revision()


# On PostgreSQL migration 0024 checks these references with statement triggers, all of a
# statement's rows at once, instead of foreign keys (one query per row); the models keep
# the keys for SQLite's schema and the ORM.
REFERENCES_CHECKED_BY_TRIGGERS = {("sbom_components", "sbom_id"), ("sbom_components", "package_id")}


def compared_with_models(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` for comparing this dialect's schema with the models."""

    def include(item: Any, _name: Any, kind: str, _reflected: bool, _compare_to: Any) -> bool:
        if dialect != "postgresql" or kind != "foreign_key_constraint":
            return True
        columns = list(item.column_keys)
        return not (
            len(columns) == 1 and (item.parent.name, columns[0]) in REFERENCES_CHECKED_BY_TRIGGERS
        )

    return include


def insert_for(session: Session):
    """The dialect's `insert`, which has `on_conflict_do_nothing/_do_update` on both databases."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def one_of(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter whatever the
    count, so the statement's text stays the same and the driver keeps its parsing of it
    (it caches none for a statement of more than 50 parameters: a page of 100 ids paid it)."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    columns: Sequence[str] | None = None,
    chunk: int = 500,
) -> None:
    """Insert rows, updating `columns` (default: every non-key column given) on key conflict."""
    if not rows:
        return
    insert = insert_for(session)
    columns = columns or [name for name in rows[0] if name not in keys]
    for start in range(0, len(rows), chunk):
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: getattr(statement.excluded, name) for name in columns},
        )
        session.exec(statement, params=list(rows[start : start + chunk]))


def is_locked(error: BaseException) -> bool:
    """SQLite's answer when the write lock stayed taken past the busy timeout."""
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


P = ParamSpec("P")
R = TypeVar("R")


def retry_once_when_locked(func: Callable[P, R]) -> Callable[P, R]:
    """Run a writer (which opens its own transaction) once more if SQLite stayed locked."""

    @functools.wraps(func)
    def retrying(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            if not is_locked(exc):
                raise
            log.warning("%s: the database stayed locked; trying once more", func.__qualname__)
            return func(*args, **kwargs)

    return retrying


def respond(view: Callable[[], Response]) -> Response:
    """The view's response, with the request's one commit: a request's database work is
    one transaction, committed when the view answers below 400 (a page, a redirect, a 201
    or 304, a GET that wrote included) and rolled back when it answers 4xx/5xx or when the
    view or the commit raises (re-raised). Views and API modules never commit.

    A view that catches a change's error and still answers with a page or a redirect (a
    message beside the form) runs the change in `savepoint`, so the change's writes are
    undone with its error. Work for after the commit (tasks, e-mail, webhooks) is queued
    in the same transaction (`service.jobs.queue.enqueue`): it exists only if the change
    does.
    """
    try:
        response = view()
        session = g.get("db_session")
        if session is not None and response.status_code < 400:
            session.commit()
        elif session is not None:
            _roll_back(session)
    except BaseException:
        if "db_session" in g:
            _roll_back(g.db_session)
        raise
    return response


def _roll_back(session: Session) -> None:
    try:
        session.rollback()
    except (OperationalError, InterfaceError):  # the connection died, its transaction too
        session.invalidate()


def savepoint(work: Callable[[Session], R]) -> R:
    """Do `work` in a savepoint of the request's transaction (flushed, so constraint errors
    surface here); when it raises, its writes alone are undone and the error propagates.
    A writer that found SQLite locked past the busy timeout gets one more try."""

    @retry_once_when_locked
    def attempt() -> R:
        session = db_session()
        with session.begin_nested():
            return work(session)

    return attempt()


DATABASE = "tributary.db"  # the key of the app's Database in app.extensions


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[DATABASE]


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        writes = has_request_context() and request.method not in SAFE_METHODS
        g.db_session = get_db().session(writer=writes)
    return g.db_session


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def close_session(exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        if exc is not None:
            session.rollback()
        session.close()
    except (OperationalError, InterfaceError):  # the connection died: drop it from the pool
        session.invalidate()
