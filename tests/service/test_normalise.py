"""The service's Python normalisers give exactly what the pipeline's dbt macro
(macros/identifiers/normalize_identifier.sql, compiled by dbt, run by DuckDB) gives."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.service.normalise import NORMALISERS, MalformedIdentifier, UnknownIdentifierType, normalise
from tests.conftest import compile_inline

pytestmark = pytest.mark.slow

AWKWARD = [
    "+86 138-0013-8000", "0086 13800138000", "86-138 0013 8000", "(86)138.0013.8000", "138\t0013\n8000",
    "13800138000\u3000", "12800138000", "1380013800", "+1 415 555 0100", "138-0013-8000x",
    " Zhang.Wei@QQ.com ", "a b@c.de", "x@y", "first.last+tag@mail.example.co", "名字@qq.com", "A@B.CN\t",
    "  M100000395 ", "m-1_2", "M 1", "", " ", "x" * 70,
    "490154203237518", "490154203237519", "49-015420-323751-8", "A0000012345678", "a0000012345678",
    "3E8A0E2E-1D0F-4D8E-9C1B-6D2F7A9B8C71", " 3e8a0e2e-1d0f-4d8e-9c1b-6d2f7a9b8c71 ",
    "3E8A0E2E1D0F4D8E9C1B6D2F7A9B8C71",
    "dev-0001-aaaa", "DEV-0001-AAAA", "short", "4f40ea58-c634-dd53-e945-e803857088ee", "_leading_underscore",
    "oABCDEFGHIJKLMNOPQRS", " oABCDEFGHIJKLMNOPQRS ", "oABC DEFGHIJKLMNOPQRS", "o" * 65,
    "6000-0000-0002", "6000 0000 0002", "600", "abc-def-ghij", "6000\u00a00000",
]


@pytest.fixture(scope="module")
def macro_results(tmp_path_factory) -> dict[tuple[str, str], str | None]:
    """Every (type, value) normalised by the dbt macro itself."""
    union = ("{% for t in var('tianwen_enums')['identifier_type'] %}"
             "select '{{ t }}' as identifier_type, v, {{ normalize_identifier(t, 'v') }} as normalised "
             "from samples{% if not loop.last %} union all {% endif %}{% endfor %}")
    proc = compile_inline(union, tmp_path_factory.mktemp("dbt-target"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    con = duckdb.connect()
    con.execute("create table samples as select unnest(?::varchar[]) as v", [AWKWARD])
    return {(t, v): n for t, v, n in con.execute(proc.stdout).fetchall()}


def test_every_type_the_pipeline_knows_has_a_normaliser(macro_results):
    assert {t for t, _ in macro_results} == set(NORMALISERS)


def test_python_and_the_dbt_macro_agree_on_awkward_values(macro_results):
    disagree = []
    for (kind, value), expected in macro_results.items():
        try:
            got = normalise(kind, value)
        except MalformedIdentifier:
            got = None
        if got != expected:
            disagree.append((kind, value, expected, got))
    assert not disagree, disagree
    assert sum(v is not None for v in macro_results.values()) > 30  # the samples exercise both outcomes


def test_unknown_types_are_refused():
    with pytest.raises(UnknownIdentifierType, match="known: member_id, mobile"):
        normalise("phone", "13800138000")
