"""The domain index reads a request's ``Host`` header from memory: every spelling of a
registered host finds it, anything else is the default domain, and the headers it
remembers never outlive a change of domains nor grow without bound."""

from __future__ import annotations

from datetime import UTC, datetime

from scanlet.actors.codes import domain_index
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.domains import Domain

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _domain(host: str) -> Domain:
    return Domain(host=host, base_url=f"https://{host}", created_at=NOW, updated_at=NOW)


def test_every_spelling_of_a_registered_host_finds_it_and_nothing_else_does() -> None:
    index = DomainIndex("https://qr.example")
    index.put(_domain("links.example"))
    for header in (b"links.example", b"LINKS.Example", b"links.example:8443", b"links.example."):
        found = index.of_host_header(header)
        assert found is not None, header
        assert found.host == "links.example"
        # Asked again: the remembered answer is the same.
        assert index.of_host_header(header) is found
    for header in (b"qr.example", b"[::1]:8000", b"127.0.0.1", b"", b"links.example.evil"):
        assert index.of_host_header(header) is None, header


def test_a_remembered_host_follows_domains_being_added_and_removed() -> None:
    index = DomainIndex("https://qr.example")
    assert index.of_host_header(b"links.example") is None
    index.put(_domain("links.example"))
    added = index.of_host_header(b"links.example")
    assert added is not None
    assert added.base_url == "https://links.example"
    index.remove("links.example")
    assert index.of_host_header(b"links.example") is None
    index.replace_all([_domain("links.example")])
    assert index.of_host_header(b"links.example") is not None
    index.replace_all([])
    assert index.of_host_header(b"links.example") is None


def test_made_up_hosts_never_fill_memory() -> None:
    index = DomainIndex("https://qr.example")
    index.put(_domain("links.example"))
    limit = domain_index._HEADER_MEMO_LIMIT
    for number in range(limit * 3):
        assert index.of_host_header(f"h{number}.example".encode()) is None
        assert len(index._by_header) <= limit
    long_header = b"a" * (domain_index._HEADER_MEMO_BYTES + 1)
    index.replace_all([_domain("links.example")])
    assert index.of_host_header(long_header) is None
    assert index._by_header == {}
    # Still answered right after all that.
    assert index.of_host_header(b"links.example") is not None
