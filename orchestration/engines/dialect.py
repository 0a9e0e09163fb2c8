"""The few SQL phrases Python writes that differ by engine (dbt's models use dispatched macros
for the same: macros/casting/regex.sql)."""

from __future__ import annotations

import re


def quote(target: str, name: str) -> str:
    """A quoted identifier: backticks on Spark, double quotes elsewhere."""
    if target == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def as_text(target: str, value: str) -> str:
    """`value` cast to text (Spark's varchar needs a length; its text type is string)."""
    return f"cast({value} as {'string' if target == 'spark' else 'varchar'})"


def regexp_like(target: str, value: str, pattern: str) -> str:
    """`value` matches the regular expression `pattern` (a pattern without backslashes: Java
    and POSIX read it alike)."""
    literal = "'" + pattern.replace("'", "''") + "'"
    if target == "spark":
        return f"{value} rlike {literal}"
    return f"{value} ~ {literal}"


def table_exists_sql(target: str, schema: str, table: str) -> str:
    """A query with a row when `schema.table` exists, none when it does not."""
    if target == "spark":  # Spark has no information_schema
        return f"show tables in {schema} like '{table}'"
    return ("select 1 from information_schema.tables"
            f" where table_schema = '{schema}' and table_name = '{table}'")


def epoch_seconds(target: str, timestamp: str) -> str:
    """Seconds since 1970-01-01 00:00 UTC of a timestamp (UTC)."""
    if target == "spark":  # Spark's extract has no epoch field
        return f"unix_seconds({timestamp})"
    return f"extract(epoch from {timestamp})"


def table_ddl(target: str, statement: str) -> str:
    """A `create table` in the engine's terms. Spark: no primary keys (informational there;
    the writers keep keys unique), `text` and `double precision` as Spark names them; the
    spark_ddl macro (macros/engines/spark.sql) applies the same rules to dbt's hooks."""
    if target != "spark" or not re.match(r"(?is)^\s*create table", statement):
        return statement
    statement = re.sub(r"(?i),\s*primary key \([^)]*\)", "", statement)
    statement = re.sub(r"(?i) primary key", "", statement)
    statement = re.sub(r"(?i)\bdouble precision\b", "double", statement)
    return re.sub(r"(?i)\btext\b", "string", statement)
