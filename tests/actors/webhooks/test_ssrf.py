"""The SSRF guard refuses every non-public target, however it is spelled or resolved."""

import ipaddress
import socket

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.webhooks.sender import Outgoing
from scanlet.actors.webhooks.ssrf import (
    MAX_URL_LENGTH,
    URL_PATTERN,
    IPAddress,
    UnsafeUrl,
    check_url,
    forbidden_reason,
    vet_url,
)
from scanlet.adapters.webhook_http import GuardedBackend, HttpxSender
from scanlet.hosts import parse_ipv4


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in table.get(host, [])]

    return resolve


PUBLIC = "93.184.215.14"

FORBIDDEN_URLS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://localhost/",
    "http://app.localhost/",
    "http://metadata.google.internal/",
    "http://internal.example/",  # resolves to a private address (below)
    "http://rebind.example/",  # one of its addresses is loopback
]
DNS = fake_dns(
    {
        "internal.example": ["10.1.2.3"],
        "rebind.example": [PUBLIC, "127.0.0.1"],
        "hooks.example": [PUBLIC],
        "localhost": ["127.0.0.1"],
    }
)


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
async def test_a_private_target_is_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await vet_url(url, allow_private=False, resolver=DNS)


@pytest.mark.parametrize("url", ["https://hooks.example/x", f"http://{PUBLIC}:8080/hook"])
async def test_a_public_target_is_accepted(url: str) -> None:
    await vet_url(url, allow_private=False, resolver=DNS)


async def test_private_targets_are_accepted_when_allowed() -> None:
    await vet_url("http://127.0.0.1:9/hook", allow_private=True, resolver=DNS)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example/",
        "file:///etc/passwd",
        "gopher://hooks.example/",
        "https://user:pw@hooks.example/",
        "https://hooks.example@127.0.0.1/",
        "http:///path",
        "http://hooks.example:99999/",
        "http://hooks .example/",
        "http://hooks.example\\@127.0.0.1/",
        "http://1.2.3.999/",
        "http://[::zz]/",
        "http://unknown.example/",
        "https://hooks.example/" + "a" * 2100,
    ],
)
async def test_a_malformed_or_unresolvable_url_is_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await vet_url(url, allow_private=False, resolver=DNS)


@pytest.mark.parametrize("url", ["http://a..b/", "http://hooks!.example/", "http://ho%6fks.ex/"])
async def test_a_name_that_cannot_be_a_host_is_refused_even_when_private_targets_are_allowed(
    url: str,
) -> None:
    # With SCANLET_WEBHOOK_ALLOW_PRIVATE nothing is resolved at registration: the name's
    # syntax is all that stands between a typo and an endpoint that can never be reached.
    with pytest.raises(UnsafeUrl):
        await vet_url(url, allow_private=True, resolver=DNS)


@given(st.from_regex(URL_PATTERN, fullmatch=True).filter(lambda u: len(u) <= MAX_URL_LENGTH))
def test_every_url_the_documented_pattern_matches_passes_the_form_check(url: str) -> None:
    check_url(url)


def test_check_url_reads_scheme_host_and_default_port() -> None:
    target = check_url("HTTPS://Hooks.Example./x")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example", 443)


@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from(["dec", "hex", "oct"]))
def test_numeric_ipv4_spellings_read_as_inet_aton_reads_them(value: int, style: str) -> None:
    text = {"dec": str(value), "hex": hex(value), "oct": "0" + oct(value)[2:]}[style]
    assert parse_ipv4(text) == ipaddress.IPv4Address(socket.inet_aton(text))


@given(st.lists(st.integers(min_value=0, max_value=255), min_size=4, max_size=4))
def test_dotted_quads_in_mixed_bases_read_as_inet_aton_reads_them(parts: list[int]) -> None:
    text = ".".join(hex(p) if i % 2 else "0" + oct(p)[2:] for i, p in enumerate(parts))
    assert parse_ipv4(text) == ipaddress.IPv4Address(socket.inet_aton(text))


def test_public_addresses_have_no_forbidden_reason() -> None:
    assert forbidden_reason(ipaddress.ip_address(PUBLIC)) is None
    assert forbidden_reason(ipaddress.ip_address("2606:4700::1111")) is None
    assert forbidden_reason(ipaddress.ip_address("::ffff:" + PUBLIC)) is None


async def test_a_delivery_to_a_name_that_now_resolves_to_loopback_is_refused() -> None:
    """DNS rebinding: vetted at creation, the name later points at this machine."""
    answers = {"flip.example": [PUBLIC]}

    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in answers.get(host, [])]

    await vet_url("http://flip.example/hook", allow_private=False, resolver=resolve)
    answers["flip.example"] = ["127.0.0.1"]
    sender = HttpxSender(allow_private=False, resolver=resolve)
    try:
        result = await sender.send(Outgoing("http://flip.example/hook", {}, b"{}"))
    finally:
        await sender.aclose()
    assert result.status_code is None
    assert result.error is not None
    assert "SSRF" in result.error
    assert "loopback" in result.error


async def test_the_guarded_backend_connects_to_the_vetted_address() -> None:
    """The connection goes to the address the guard checked, whatever the name is."""
    received = anyio.Event()

    async def handle(stream: anyio.abc.SocketStream) -> None:
        received.set()
        await stream.aclose()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    backend = GuardedBackend(allow_private=True, resolver=fake_dns({"x.test": ["127.0.0.1"]}))
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, handle)
        stream = await backend.connect_tcp("x.test", port)
        with anyio.fail_after(5):
            await received.wait()
        await stream.aclose()
        tasks.cancel_scope.cancel()


async def test_no_redirect_is_followed() -> None:
    seen: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://127.0.0.1/"})

    sender = HttpxSender(allow_private=False, transport=httpx.MockTransport(reply))
    try:
        result = await sender.send(Outgoing("https://hooks.example/", {}, b"{}"))
    finally:
        await sender.aclose()
    assert result.status_code == 302
    assert seen == ["https://hooks.example/"]
