"""``scanlet completion bash|zsh|fish``: a completion script for the shell, made from the
parser itself, so it never lags behind the commands.

bash and zsh scripts come from shtab (which walks argparse parsers for exactly this); fish,
which shtab does not write, from ``fish_script`` below: one ``complete`` line per
sub-command and per option, each guarded by the sub-commands typed so far.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

import shtab

from scanlet.cli.common import EXIT_OK, Subcommands

__all__ = ("fish_script", "register")

SHELLS = ("bash", "zsh", "fish")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {choice.dest: choice.help or "" for choice in action._choices_actions}
    return {}


def _quoted(text: str) -> str:
    return shlex.quote(text.replace("\n", " "))


def _fish_lines(prog: str, parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[str]:
    children = _subcommands(parser)
    helps = _helps(parser)
    # fish conditions are commands: "__fish_seen_subcommand_from codes; and ..." is true once
    # "codes" is on the line.
    typed = "; and ".join(f"__fish_seen_subcommand_from {name}" for name in path)
    offer = "__fish_use_subcommand"
    if path:
        offer = f"{typed}; and not __fish_seen_subcommand_from {' '.join(children)}"
    for name in children:
        yield (
            f"complete -c {prog} -f -n {_quoted(offer)} -a {name} -d {_quoted(helps.get(name, ''))}"
        )
    if path:
        for action in parser._actions:
            longs = [o[2:] for o in action.option_strings if o.startswith("--")]
            if not longs or action.help == argparse.SUPPRESS:
                continue
            line = f"complete -c {prog} -n {_quoted(typed)} -l {longs[0]}"
            if action.choices is not None and not isinstance(action.choices, dict):
                choices = " ".join(str(c) for c in action.choices)
                line += f" -x -a {_quoted(choices)}"
            elif action.nargs != 0:
                line += " -r"
            yield line + f" -d {_quoted(action.help or '')}"
    for name, child in children.items():
        yield from _fish_lines(prog, child, (*path, name))


def fish_script(parser: argparse.ArgumentParser) -> str:
    """Completions for fish: sub-commands at each level, then each one's long options
    (with their choices)."""
    prog = parser.prog
    lines = [f"# fish completion for {prog}; load with: {prog} completion fish | source"]
    lines.append(f"complete -c {prog} -e")
    lines.extend(_fish_lines(prog, parser, ()))
    return "\n".join(lines) + "\n"


def cmd_completion(args: argparse.Namespace) -> int:
    """Print the completion script for the shell."""
    parser: argparse.ArgumentParser = args.root
    if args.shell == "fish":
        print(fish_script(parser), end="")
    else:
        print(shtab.complete(parser, shell=args.shell), end="")
    return EXIT_OK


def register(sub: Subcommands) -> None:
    completion = sub.add_parser(
        "completion",
        help="print a shell completion script",
        description='bash: eval "$(scanlet completion bash)"; zsh: scanlet completion zsh > '
        '"${fpath[1]}/_scanlet"; fish: scanlet completion fish | source',
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(func=cmd_completion)
