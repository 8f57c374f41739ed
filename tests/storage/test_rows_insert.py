"""Many rows in one INSERT: in order, whatever their number, one statement text per size."""

import sqlite3

import pytest

from scanlet.storage.sqlite.rows_insert import CHUNK_ROWS, RowsInsert


def test_rows_go_in_in_order_in_statements_of_at_most_chunk_rows() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, name TEXT, blob BLOB, n INTEGER)")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    insert = RowsInsert("INSERT INTO t (name, blob, n) VALUES", 3)
    rows = [(f"row {i}", bytearray([i % 256]), i) for i in range(2 * CHUNK_ROWS + 5)]
    insert(conn, rows)
    insert(conn, rows[:5])
    insert(conn, [])
    stored = conn.execute("SELECT seq, name, blob, n FROM t ORDER BY seq").fetchall()
    expected = [(i + 1, name, bytes(blob), n) for i, (name, blob, n) in enumerate(rows + rows[:5])]
    assert stored == expected
    # The callback sees each statement with its values filled in.
    counts = [statement.count("('row ") for statement in statements if "INSERT" in statement]
    assert counts == [CHUNK_ROWS, CHUNK_ROWS, 5, 5]
    assert sorted(insert._texts) == [5, CHUNK_ROWS]  # the same size reuses its text


def test_a_tail_and_chunk_of_its_own_and_the_rows_returned_from_every_statement() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(
        "CREATE TABLE v (slug TEXT, day INTEGER, visitor TEXT, PRIMARY KEY (slug, day, visitor))"
    )
    insert = RowsInsert(
        "INSERT INTO v (slug, day, visitor) VALUES",
        3,
        "ON CONFLICT DO NOTHING RETURNING slug, day, visitor",
        chunk=7,
    )
    keys = [("menu", day, f"visitor {n}") for day in (1, 2) for n in range(10)]
    assert sorted(insert.returning(conn, keys[:13])) == sorted(keys[:13])
    # Only the keys not stored before come back, across all the statements (7, 7, 6 rows).
    assert sorted(insert.returning(conn, keys)) == sorted(keys[13:])
    assert insert.returning(conn, keys) == []
    assert sorted(insert._texts) == [6, 7]
    assert conn.execute("SELECT count(*) FROM v").fetchone() == (len(keys),)


def test_a_shared_column_is_bound_once_and_named_by_every_row() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, a TEXT, stamp TEXT, b INTEGER)")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    insert = RowsInsert("INSERT INTO t (a, stamp, b) VALUES", 3, chunk=4, shared=(1,))
    rows = [(f"row {i}", i) for i in range(10)]
    insert(conn, rows, ("T1",))
    insert(conn, rows[:2], ("T2",))
    stored = conn.execute("SELECT a, stamp, b FROM t ORDER BY seq").fetchall()
    assert stored == [(a, "T1", b) for a, b in rows] + [(a, "T2", b) for a, b in rows[:2]]
    assert insert._texts[2] == "INSERT INTO t (a, stamp, b) VALUES (?2, ?1, ?3), (?4, ?1, ?5)"
    assert len([s for s in statements if "INSERT" in s]) == 4  # 4, 4, 2 rows, then 2


def test_shared_columns_are_checked() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (a TEXT, b TEXT)")
    with pytest.raises(ValueError, match="not distinct columns"):
        RowsInsert("INSERT INTO t (a, b) VALUES", 2, shared=(2,))
    with pytest.raises(ValueError, match="not distinct columns"):
        RowsInsert("INSERT INTO t (a, b) VALUES", 2, shared=(0, 0))
    insert = RowsInsert("INSERT INTO t (a, b) VALUES", 2, shared=(0,))
    with pytest.raises(ValueError, match="1 shared values wanted, 0 given"):
        insert(conn, [("x",)])
    with pytest.raises(ValueError, match="3 values are no whole number of rows of 2"):
        RowsInsert("INSERT INTO t (a, b) VALUES", 2).flat(conn, ["x", "y", "z"])
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    insert.flat(conn, ["y", "z"], ("x",))
    assert conn.execute("SELECT a, b FROM t").fetchall() == [("x", "y"), ("x", "z")]
