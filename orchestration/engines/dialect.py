"""The few SQL phrases Python writes that differ by engine (dbt's models use dispatched macros
for the same: macros/casting/regex.sql)."""

from __future__ import annotations


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
