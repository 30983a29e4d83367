"""Database engine and sessions for SQLite (embedded) and PostgreSQL (production).

Two kinds of unit of work:

- a writer (``create_sessionmaker``): on SQLite its transaction starts with ``BEGIN IMMEDIATE``, so it
  waits its turn for the one write lock up front (a deferred transaction that later writes fails at once
  when another writer got in first);
- a reader (``create_read_sessionmaker``): a plain deferred ``BEGIN`` on SQLite, which takes no write
  lock, so readers never queue behind writers (WAL lets them read beside the single writer), and
  ``BEGIN READ ONLY`` on PostgreSQL. A reader that tries to write (a flush with changes, an INSERT,
  UPDATE or DELETE) raises ``WriteInReadTransaction`` on both databases, whatever else is running: a
  write a read needs goes through a writer of its own.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# The execution option (and session info key) of a reader's connections and sessions.
READS_ONLY = "clinicore_reads_only"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no zone, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- SQLite: one trip to the connection's thread per statement, none for a reader --------------------
#
# aiosqlite runs each call on the connection's own thread, and SQLAlchemy's adapter makes four calls per
# statement (open a cursor, execute, fetch the rows, close the cursor): four thread hand-offs, each costing
# more CPU (and a GIL hand-over) than an indexed SQLite read itself. This cursor does the four in one call.
#
# A reader's transaction (deferred BEGIN, SELECTs, COMMIT) makes no trip at all: it runs on the event
# loop's thread. In WAL mode a reader waits for no lock (writers append to the WAL, a passive checkpoint
# never blocks readers), so a reader's statement costs the loop what the read costs, which for the indexed
# reads of a request is less than the hand-off would. A writer, which may wait up to the busy timeout for
# the write lock, always runs on the connection's thread. ``inline`` is set by the ``begin`` listener for
# each transaction; the connection is opened with ``check_same_thread=False`` and one statement runs at a
# time per connection (the adapter's mutex, one transaction per checked-out connection).


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no aiosqlite cursor: each statement opens its own
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._rows = collections.deque()
        self._soft_closed_memoized = EMPTY_DICT
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return  # nothing is open between calls

    def close(self) -> None:
        self._rows.clear()

    async def _run(self, operation: str, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        native: sqlite3.Connection = connection._conn

        def statement() -> tuple[Any, list[Any], int, int | None]:
            cursor = native.cursor()
            try:
                if many:
                    cursor.executemany(operation, parameters)
                else:
                    cursor.execute(operation, () if parameters is None else parameters)
                description = cursor.description
                rows = cursor.fetchall() if description else []
                return description, rows, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        adapted: _OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            if adapted.inline:
                outcome = statement()
            else:
                outcome = await connection._execute(statement)  # type: ignore[no-untyped-call]
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("inline",)
    _cursor_cls = _OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.inline = False  # set per transaction by the begin listener

    def _native(self) -> sqlite3.Connection | None:
        native: sqlite3.Connection | None = self._connection._conn
        return native

    def commit(self) -> None:
        native = self._native()
        if not self.inline or native is None:
            super().commit()
            return
        try:
            native.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        native = self._native()
        if not self.inline or native is None:
            super().rollback()
            return
        try:
            native.rollback()
        except Exception as error:
            self._handle_exception(error)


class _OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        kw.pop("async_creator_fn", None)
        # A reader's statements run on the event loop's thread (see above).
        kw["check_same_thread"] = False
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's own adapter does
        return _OneTripConnection(self, await_(connection))


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reads_only = bool(connection.get_execution_options().get(READS_ONLY, False))
        adapted = connection.connection.dbapi_connection
        if isinstance(adapted, _OneTripConnection):
            adapted.inline = reads_only
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=60,
            module=_OneTripDbapi(aiosqlite, sqlite3),
        )
        _configure_sqlite(engine)
        return engine
    # No pre-ping (a round trip before every checkout); stale connections are recycled instead.
    return create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=1800)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class WriteInReadTransaction(RuntimeError):
    """A unit of work opened as a reader tried to write: a programming error, never a client's."""


class ReadSession(Session):
    """The session of a reader: its connections carry ``READS_ONLY`` and it refuses every write."""


@event.listens_for(ReadSession, "before_flush")
def _refuse_flushed_writes(session: Session, _context: UOWTransaction, _instances: object) -> None:
    changed = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    if changed:
        raise WriteInReadTransaction(
            f"a read transaction tried to write {', '.join(sorted({type(o).__name__ for o in changed}))}"
        )


@event.listens_for(ReadSession, "do_orm_execute")
def _refuse_write_statements(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise WriteInReadTransaction("a read transaction tried to run an INSERT, UPDATE or DELETE")


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work that only read (see the module's docstring)."""
    options: dict[str, Any] = {READS_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return async_sessionmaker(
        engine.execution_options(**options),
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=ReadSession,
        info={READS_ONLY: True},
    )


def reads_only(session: AsyncSession) -> bool:
    """Whether ``session`` is a reader's (``create_read_sessionmaker``)."""
    return bool(session.info.get(READS_ONLY, False))


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any exception (a reader's if ``sessions`` is
    a read sessionmaker)."""
    async with sessions() as session, session.begin():
        yield session
