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
