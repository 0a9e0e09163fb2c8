"""A PostgreSQL table (a CRM or an app database) kept in step: adds and changes are upserted
on the sync's key (`insert ... on conflict do update`), removes deleted (mirror mode). The
table is created when missing: `key` text primary key, one text column per mapped field,
`synced_at`. The DSN comes from the variable named by `dsn_env`.

A batch is one transaction; if the server refuses it, each row is tried in its own
transaction and the rows it still refuses are rejected with its message (sync_rejections,
retried next run). A lost connection is retried with backoff; applying an upsert or delete
twice changes nothing, so a resumed batch is harmless."""

from __future__ import annotations

import os

import psycopg
from psycopg import sql
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from orchestration.activation.destinations.base import Batch, Destination, DestinationError
from orchestration.activation.state import REMOVE, BatchOutcome


class PostgresDestination(Destination):
    type = "postgres"

    def __init__(self, sync):
        super().__init__(sync)
        cfg = sync.destination
        if not os.environ.get(cfg.dsn_env):
            raise DestinationError(f"sync {sync.name}: set {cfg.dsn_env} (the destination database's DSN)")
        self.dsn = os.environ[cfg.dsn_env]
        schema, _, table = cfg.table.rpartition(".")
        self.table = sql.Identifier(*(p for p in (schema, table) if p))
        self.fields = [*sync.fields, *(i for i in sync.identifiers if i not in sync.fields)]
        self.con = None

    def _connect(self):
        if self.con is None or self.con.closed:
            self.con = psycopg.connect(self.dsn, connect_timeout=10)
            with self.con.transaction():
                self.con.execute(sql.SQL("create table if not exists {} (key text primary key, {}, "
                                         "synced_at timestamptz not null default now())").format(
                    self.table, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f))
                                                   for f in self.fields)))
        return self.con

    def _apply(self, con, ops) -> None:
        upsert = sql.SQL("insert into {} (key, {}) values ({}) on conflict (key) do update set {}, "
                         "synced_at = now()").format(
            self.table, sql.SQL(", ").join(map(sql.Identifier, self.fields)),
            sql.SQL(", ").join(sql.Placeholder() * (len(self.fields) + 1)),
            sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(f)) for f in self.fields))
        delete = sql.SQL("delete from {} where key = %s").format(self.table)
        with con.cursor() as cur:
            removes = [(o.key,) for o in ops if o.op == REMOVE]
            upserts = [(o.key, *(None if o.payload.get(f) is None else str(o.payload.get(f)) for f in self.fields))
                       for o in ops if o.op != REMOVE]
            if removes:
                cur.executemany(delete, removes)
            if upserts:
                cur.executemany(upsert, upserts)

    def _send(self, batch: Batch) -> BatchOutcome:
        con = self._connect()
        try:
            with con.transaction():
                self._apply(con, batch.ops)
            return BatchOutcome(acknowledged=list(batch.ops))
        except psycopg.OperationalError:
            self.con = None
            raise
        except psycopg.Error:
            pass  # some row is refused: find which
        acknowledged, rejected = [], {}
        for op in batch.ops:
            try:
                with con.transaction():
                    self._apply(con, [op])
                acknowledged.append(op)
            except psycopg.OperationalError:
                self.con = None
                raise
            except psycopg.Error as exc:
                rejected[op.key] = (exc.diag.message_primary or type(exc).__name__)[:500]
        return BatchOutcome(acknowledged=acknowledged, rejected=rejected)

    def send(self, batch: Batch) -> BatchOutcome:
        retrying = Retrying(retry=retry_if_exception_type(psycopg.OperationalError),
                            wait=wait_random_exponential(multiplier=0.5, max=30), stop=stop_after_attempt(5),
                            reraise=True)
        try:
            outcome = retrying(self._send, batch)
        except psycopg.OperationalError as exc:
            raise DestinationError(f"PostgreSQL destination unreachable: {str(exc).splitlines()[0]}") from None
        outcome.attempts = retrying.statistics.get("attempt_number", 1)
        return outcome

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
