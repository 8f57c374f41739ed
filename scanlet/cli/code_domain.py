"""``--domain HOST``: which domain a command's code is on, as ``?domain=`` names it on the
API (``http.code_address``): a registered host, or the default one, also when left out."""

from __future__ import annotations

import argparse

from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.keys import code_key

__all__ = ("addressed_key", "domain_flag")


def domain_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--domain HOST`` (one)."""
    parser.add_argument("--domain", metavar="HOST", help=help_text)


def addressed_key(hosts: DomainIndex, args: argparse.Namespace) -> str:
    """The key of the code ``args.slug`` on ``args.domain``; InvalidField naming ``domain``
    (one line) for a host that is malformed or not registered."""
    return code_key(hosts.resolve(args.domain, "domain"), args.slug)
