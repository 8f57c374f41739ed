"""Many rows in one INSERT: in order, whatever their number, one statement text per size."""

import sqlite3

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
