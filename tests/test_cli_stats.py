"""``scanlet stats`` through the real executable, after real scans of a running server, on
either backend: the table, and with ``--format json`` exactly the API's body."""

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from scanlet.cli.stats import sparkline
from tests.clirun import on_terminal, scanlet
from tests.processes import served

#: A phone's browser: httpx's own agent counts as a bot, left out of every figure but bots.
BROWSER = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
}
RANGE = ["--from", "2026-01-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z", "--interval", "month"]


def test_stats_after_scans_are_the_apis_figures(scanlet_db: str, tmp_path: Path) -> None:
    env = {"SCANLET_DB": scanlet_db, "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key")}
    with served(tmp_path, env=env) as server:
        cli_env = {**env, "SCANLET_PORT": str(server.port)}
        made = scanlet(
            "codes", "create", "https://example.com", "--slug", "menu", cwd=tmp_path, env=cli_env
        )
        assert made.returncode == 0, made.stderr
        for path in ("/menu", "/q/menu", "/q/menu"):
            assert _redirects(server.base + path)
        body = _stats_once_counted(tmp_path, cli_env, total=3)
        key = server.key("read")
        api = httpx.get(
            f"{server.base}/api/v1/codes/menu/stats",
            params={"from": RANGE[1], "to": RANGE[3], "interval": "month"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert api.status_code == 200
        assert body == api.json()
        assert body["by_source"] == {"qr": 2, "link": 1}

        table = scanlet("stats", "menu", *RANGE, cwd=tmp_path, env=cli_env)
        assert table.returncode == 0, table.stderr
        fields = dict(line.split(None, 1) for line in table.stdout.splitlines())
        assert fields["total"] == "3"
        assert fields["by_source"] == "qr 2, link 1"
        assert "█" in fields["series"]
        everything = scanlet("stats", *RANGE, cwd=tmp_path, env=cli_env)
        assert "top_codes        menu 3" in everything.stdout
    # The export's progress total is the count of matching raw scans, on either backend.
    code, out, drawn = on_terminal(
        tmp_path, "export", "scans", "--slug", "menu", "--db", scanlet_db, stream="stderr"
    )
    assert code == 0
    assert len(out.splitlines()) == 3 + 1  # the CSV header first
    assert re.search(r"100%.* 3(\.00)?/3(\.00)? ", drawn), drawn  # tqdm may show 3.00/3.00


def _redirects(url: str) -> bool:
    # A code made a moment ago by another process: served after the next resync.
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if httpx.get(url, headers=BROWSER).status_code == 302:
            return True
        time.sleep(0.1)
    return False


def _stats_once_counted(folder: Path, env: dict[str, str], total: int) -> dict[str, object]:
    """The JSON stats once the analytics follower has applied the scans (it runs in the
    server, beside the redirects: poll, with a generous limit)."""
    end = time.monotonic() + 30
    while True:
        result = scanlet("stats", "menu", *RANGE, "--format", "json", cwd=folder, env=env)
        assert result.returncode == 0, result.stderr
        body: dict[str, object] = json.loads(result.stdout)
        if body["total"] == total or time.monotonic() > end:
            return body
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no code with slug 'nope'"),
        (["--from", "yesterday"], "from: expected an RFC 3339 time"),
        (["--from", "2026-02-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z"], "from: must be"),
        (["--tz", "Mars/Olympus"], "tz: expected an IANA time zone"),
        (["--interval", "fortnight"], "interval: expected one of hour, day, week, month"),
        (["--interval", "hour", "--from", "1970-01-01T00:00:00Z"], "interval: the range needs"),
        (["--top", "0"], "top: expected an integer from 1 to 100"),
        (["--to", "99999-01-01T00:00:00Z"], "to:"),
    ],
)
def test_bad_ranges_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    assert scanlet("migrate", cwd=tmp_path).returncode == 0
    result = scanlet("stats", *args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_the_sparkline_scales_to_the_busiest_bucket() -> None:
    assert sparkline([0, 1, 4, 8]) == " ▁▄█"
    assert sparkline([0, 0]) == "  "
    assert sparkline([]) == ""
    assert sparkline([1, 1000]) == "▁█"
