"""CSV export: cells a spreadsheet would run as a formula are written as text."""

import csv
import io

import pytest

from scanlet.actors.analytics.export import csv_rows
from scanlet.storage.records import RawScan


def user_agent_cell(user_agent: str) -> str:
    """The user-agent cell of a one-scan export, as a CSV reader gives it back."""
    scan = RawScan(
        seq=1,
        id="e1",
        slug="menu",
        orphan=False,
        occurred_at="2026-01-01T00:00:00.000000Z",
        source="link",
        ip=None,
        visitor=None,
        user_agent=user_agent,
        referrer=None,
        referrer_host=None,
        country=None,
        device="other",
        os="other",
        browser="other",
        bot=False,
        device_id=None,
        data=None,
    )
    (row,) = csv.reader(io.StringIO(csv_rows([scan])))
    return row[8]


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "\nx",
        " =1+1",
        "\n=1+1",
        "\u00a0=1+1",  # no-break space
        "\u3000=1+1",  # ideographic space
        "\u2003+1",  # em space (another Zs)
        "\uff1d1+1",  # fullwidth equals sign
        "\uff0b1",  # fullwidth plus sign
        "\uff0d1",  # fullwidth hyphen-minus
        "\uff20SUM(A1)",  # fullwidth commercial at
        " \t \uff1dHYPERLINK(1)",
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe(value: str) -> None:
    assert user_agent_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Mozilla/5.0 (iPhone)", "curl/8.5", "a=b", "x-1", " plain", "\u00a0plain", ""]
)
def test_other_cells_are_written_as_they_are(value: str) -> None:
    assert user_agent_cell(value) == value
