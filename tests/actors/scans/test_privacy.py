import datetime
import hashlib
import hmac
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.scans.privacy import (
    SaltSource,
    VisitorHasher,
    anonymize_ip,
    client_address,
)
from scanlet.storage.server_key import ServerKey

DAY = datetime.date(2025, 3, 14)
NEXT_DAY = DAY + datetime.timedelta(days=1)
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
KEY_BYTES = bytes(range(32))
KEY = ServerKey(KEY_BYTES)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("1.2.3.4", "1.2.3.0"),
        ("192.168.100.255", "192.168.100.0"),
        ("10.0.0.0", "10.0.0.0"),
        ("2001:db8:abcd:1234::1", "2001:db8:abcd::"),
        ("2001:0db8:abcd:ffff:ffff:ffff:ffff:ffff", "2001:db8:abcd::"),
        ("::1", "::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:1.2.3.4", "1.2.3.0"),
        ("::ffff:c0a8:0101", "192.168.1.0"),
    ],
)
def test_anonymize_ip_zeroes_the_host_part(address: str, expected: str) -> None:
    assert anonymize_ip(address) == expected


@pytest.mark.parametrize(
    "address", ["", "unknown", "1.2.3", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4", "1.2.3.4:80", "[::1]"]
)
def test_anonymize_ip_gives_empty_string_for_anything_not_an_address(address: str) -> None:
    assert anonymize_ip(address) == ""


@given(st.ip_addresses())
def test_anonymized_addresses_are_addresses_of_the_same_network(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    anonymized = ipaddress.ip_address(anonymize_ip(str(address)))
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    original = mapped or address
    prefix = 24 if original.version == 4 else 48
    assert anonymized in ipaddress.ip_network(f"{original}/{prefix}", strict=False)
    assert anonymize_ip(str(anonymized)) == str(anonymized)


@given(st.text())
def test_anonymize_ip_never_raises(value: str) -> None:
    assert isinstance(anonymize_ip(value), str)


PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48"))


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", PROXIES) == "203.0.113.9"


def test_without_trusted_proxies_forwarded_for_is_ignored() -> None:
    assert client_address("10.0.0.1", "198.51.100.1", ()) == "10.0.0.1"


def test_a_trusted_peer_passes_on_the_address_it_saw() -> None:
    assert client_address("10.0.0.1", "198.51.100.1", PROXIES) == "198.51.100.1"


def test_trusted_hops_are_skipped_from_the_right() -> None:
    forwarded = "198.51.100.1, 10.1.1.1, 2001:db8:ffff::7"
    assert client_address("10.0.0.1", forwarded, PROXIES) == "198.51.100.1"


def test_spoofed_entries_left_of_the_first_untrusted_hop_are_ignored() -> None:
    forwarded = "1.1.1.1, 10.9.9.9, 198.51.100.1, 10.1.1.1"
    assert client_address("10.0.0.1", forwarded, PROXIES) == "198.51.100.1"


def test_an_all_trusted_chain_gives_its_leftmost_address() -> None:
    assert client_address("10.0.0.1", "10.3.3.3,10.2.2.2", PROXIES) == "10.3.3.3"


def test_a_malformed_entry_stops_the_walk_at_the_last_trusted_hop() -> None:
    assert client_address("10.0.0.1", "198.51.100.1, junk, 10.2.2.2", PROXIES) == "10.2.2.2"
    assert client_address("10.0.0.1", "198.51.100.1, ", PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", "198.51.100.1:4711", PROXIES) == "10.0.0.1"


def test_missing_or_empty_forwarded_for_gives_the_peer() -> None:
    assert client_address("10.0.0.1", None, PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", "", PROXIES) == "10.0.0.1"


def test_ipv4_mapped_addresses_are_matched_and_returned_as_ipv4() -> None:
    assert client_address("::ffff:10.0.0.1", "::ffff:198.51.100.1", PROXIES) == "198.51.100.1"


def test_addresses_come_back_in_canonical_form() -> None:
    assert client_address("2001:0db8:0000::0001", None, ()) == "2001:db8::1"


@pytest.mark.parametrize("peer", [None, "", "unix:/run/scanlet.sock", "localhost"])
def test_a_missing_or_unparseable_peer_gives_empty_string(peer: str | None) -> None:
    assert client_address(peer, "198.51.100.1", PROXIES) == ""


@given(
    st.one_of(st.none(), st.text(max_size=20), st.ip_addresses().map(str)),
    st.one_of(st.none(), st.text(max_size=40)),
)
def test_client_address_never_raises(peer: str | None, forwarded: str | None) -> None:
    assert isinstance(client_address(peer, forwarded, PROXIES), str)


class FixedSalts:
    def salt_for(self, day: datetime.date) -> bytes:
        return day.isoformat().encode()


def test_the_visitor_hash_is_stable_within_a_day() -> None:
    hasher = VisitorHasher(FixedSalts(), KEY)
    assert hasher.visitor_hash(DAY, "198.51.100.1", UA) == hasher.visitor_hash(
        DAY, "198.51.100.1", UA
    )


def test_the_visitor_hash_differs_across_days() -> None:
    hasher = VisitorHasher(FixedSalts(), KEY)
    assert hasher.visitor_hash(DAY, "198.51.100.1", UA) != hasher.visitor_hash(
        NEXT_DAY, "198.51.100.1", UA
    )


def test_the_visitor_hash_differs_across_addresses_and_user_agents() -> None:
    hasher = VisitorHasher(FixedSalts(), KEY)
    hashes = {
        hasher.visitor_hash(DAY, "198.51.100.1", UA),
        hasher.visitor_hash(DAY, "198.51.100.2", UA),
        hasher.visitor_hash(DAY, "198.51.100.1", UA + " Edg/1"),
        hasher.visitor_hash(DAY, "198.51.100.1", ""),
    }
    assert len(hashes) == 4


def test_the_visitor_hash_separates_address_from_user_agent() -> None:
    hasher = VisitorHasher(FixedSalts(), KEY)
    assert hasher.visitor_hash(DAY, "1.2.3.4", "5 agent") != hasher.visitor_hash(
        DAY, "1.2.3.45", " agent"
    )


def test_the_visitor_hash_is_128_bits_of_hex_and_not_the_address() -> None:
    digest = VisitorHasher(FixedSalts(), KEY).visitor_hash(DAY, "198.51.100.1", UA)
    assert len(digest) == 32
    assert int(digest, 16) >= 0
    assert "198.51.100" not in digest


def test_the_visitor_hash_depends_only_on_the_salts_and_the_server_key() -> None:
    first = VisitorHasher(FixedSalts(), KEY).visitor_hash(DAY, "198.51.100.1", UA)
    second = VisitorHasher(FixedSalts(), KEY).visitor_hash(DAY, "198.51.100.1", UA)
    assert first == second
    assert isinstance(FixedSalts(), SaltSource)


def test_the_salt_without_the_server_key_gives_none_of_the_hashes() -> None:
    """The salt is in the database and every backup; the server key is not. A copy of the
    database must not let anyone recompute a hash (and so try the 256 addresses of a /24)."""
    salted = VisitorHasher(FixedSalts(), KEY).visitor_hash(DAY, "198.51.100.1", UA)
    message = f"198.51.100.1\0{UA}".encode()
    salt = FixedSalts().salt_for(DAY)
    assert salted != hashlib.blake2b(message, key=salt, digest_size=16).hexdigest()
    other = ServerKey(b"\xff" * 32)
    assert salted != VisitorHasher(FixedSalts(), other).visitor_hash(DAY, "198.51.100.1", UA)


@given(st.lists(st.tuples(st.sampled_from([DAY, NEXT_DAY]), st.text(max_size=20)), max_size=10))
def test_the_visitor_hash_is_blake2b_keyed_by_the_salt_under_the_server_key(
    scans: list[tuple[datetime.date, str]],
) -> None:
    hasher = VisitorHasher(FixedSalts(), KEY)
    for day, agent in scans:
        message = f"198.51.100.1\0{agent}".encode("utf-8", "surrogatepass")
        salt = FixedSalts().salt_for(day)
        day_key = hmac.new(KEY_BYTES, b"visitor-hash\0" + salt, hashlib.sha256).digest()
        expected = hashlib.blake2b(message, key=day_key, digest_size=16).hexdigest()
        assert hasher.visitor_hash(day, "198.51.100.1", agent) == expected
