"""``scanlet completion``: scripts made from the parser that load in their shells and offer
every command."""

import shutil
import subprocess
from pathlib import Path

import pytest

from scanlet.cli import build_parser
from scanlet.cli.completion import fish_script
from tests.clirun import SCANLET, scanlet

COMMANDS = ["serve", "keys", "codes", "qr", "stats", "scans", "webhooks", "export", "completion"]


def _bash(script: str, tmp_path: Path) -> str:
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": f"{Path(SCANLET).parent}:/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _completions(words: list[str], tmp_path: Path) -> list[str]:
    """What bash offers for the last of ``words`` after loading the script."""
    line = " ".join(words)
    quoted = " ".join(f"'{w}'" for w in words)
    return _bash(
        'eval "$(scanlet completion bash)"; '
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        f"COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _shtab_scanlet; "
        'printf "%s\\n" "${COMPREPLY[@]}"',
        tmp_path,
    ).split()


def test_the_bash_script_loads_and_completes_commands_and_choices(tmp_path: Path) -> None:
    registered = _bash('eval "$(scanlet completion bash)"; complete -p scanlet', tmp_path)
    assert registered.strip().endswith(" scanlet")
    assert "-F _shtab_scanlet" in registered
    assert set(COMMANDS) <= set(_completions(["scanlet", ""], tmp_path))
    assert _completions(["scanlet", "cod"], tmp_path) == ["codes"]
    assert set(_completions(["scanlet", "codes", ""], tmp_path)) >= {
        "create", "list", "show", "set", "delete", "logo",
    }  # fmt: skip
    assert _completions(["scanlet", "codes", "list", "--format", ""], tmp_path) == [
        "table", "json",
    ]  # fmt: skip
    assert _completions(["scanlet", "codes", "create", "--kind", ""], tmp_path) == [
        "url", "wifi", "vcard", "geo", "sms", "email", "tel", "text",
    ]  # fmt: skip
    assert {"--kind", "--content", "--tracked"} <= set(
        _completions(["scanlet", "codes", "create", "--"], tmp_path)
    )
    assert "--content" in _completions(["scanlet", "codes", "set", "menu", "--"], tmp_path)
    assert "--delete" in _completions(["scanlet", "codes", "logo", "menu", "--"], tmp_path)


def test_bash_completes_the_file_of_codes_logo(tmp_path: Path) -> None:
    (tmp_path / "brand.svg").write_text("<svg/>")
    (tmp_path / "brand.png").write_bytes(b"")
    offered = _completions(["scanlet", "codes", "logo", "menu", "bra"], tmp_path)
    assert sorted(offered) == ["brand.png", "brand.svg"]


def test_the_zsh_script_names_every_command(tmp_path: Path) -> None:
    result = scanlet("completion", "zsh", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("#compdef scanlet")
    for command in COMMANDS:
        assert command in result.stdout
    if shutil.which("zsh"):
        loaded = subprocess.run(["zsh", "-n"], input=result.stdout, text=True, check=False)
        assert loaded.returncode == 0


def test_the_fish_script_offers_every_command_and_nested_one() -> None:
    script = fish_script(build_parser())
    for command in COMMANDS:
        assert f"-n __fish_use_subcommand -a {command} " in script
    assert (
        "-n '__fish_seen_subcommand_from codes; and not __fish_seen_subcommand_from create list"
        " show set delete logo' -a set "
    ) in script
    assert (
        "complete -c scanlet -n '__fish_seen_subcommand_from codes; and "
        "__fish_seen_subcommand_from create' -l kind -x -a 'url wifi vcard geo sms email tel text'"
    ) in script
    assert (
        "complete -c scanlet -n '__fish_seen_subcommand_from codes; and "
        "__fish_seen_subcommand_from list' -l format -x -a 'table json'"
    ) in script
    if shutil.which("fish"):
        checked = subprocess.run(["fish", "--no-execute"], input=script, text=True, check=False)
        assert checked.returncode == 0


@pytest.mark.parametrize("shell", ["tcsh", ""])
def test_an_unknown_shell_is_a_usage_error(tmp_path: Path, shell: str) -> None:
    result = scanlet("completion", shell, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
