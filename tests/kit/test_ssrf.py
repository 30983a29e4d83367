from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from clinicore.kit.errors import InvalidInput
from clinicore.kit.ssrf import WebhookTargetRefused, check_url, outbound_client
from tests.core.events.receiver import Answer, running_receiver

# Every class of address the guard refuses in production, with the label it reports.
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.20", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.10.1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.5", "reserved"),
    ("198.18.0.1", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("fe80::1", "link-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "reserved"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
    ("::ffff:169.254.169.254", "cloud metadata"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::a9fe:a9fe", "cloud metadata"),  # NAT64 of 169.254.169.254
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


def url_for(address: str, port: int = 443) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}:{port}/hooks"


def resolving_to(*addresses: str) -> object:
    async def resolver(_host: str, _port: int) -> Sequence[str]:
        return addresses

    return resolver


class TestAddressTable:
    @pytest.mark.parametrize(("address", "label"), REFUSED)
    async def test_refused_in_production(self, address: str, label: str) -> None:
        with pytest.raises(WebhookTargetRefused) as refused:
            await check_url(url_for(address), allow_private=False)
        assert (
            refused.value.message
            == f"url: {address} is a {label} address; webhooks must go to a public address"
        )
        assert refused.value.field == "url"

    @pytest.mark.parametrize("address", PUBLIC)
    async def test_public_addresses_are_allowed(self, address: str) -> None:
        assert await check_url(url_for(address, 8443), allow_private=False) == [address]

    @pytest.mark.parametrize(
        "address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.20", "fd00::5", "::ffff:10.0.0.1"]
    )
    async def test_allowing_private_targets_lifts_the_guard_for_loopback_and_private(
        self, address: str
    ) -> None:
        assert await check_url(url_for(address), allow_private=True) == [address]

    @pytest.mark.parametrize(
        "address",
        ["169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0", "100.64.0.1", "::ffff:169.254.169.254"],
    )
    async def test_metadata_link_local_and_the_rest_stay_refused_even_then(self, address: str) -> None:
        with pytest.raises(WebhookTargetRefused):
            await check_url(url_for(address), allow_private=True)


class TestHostNames:
    async def test_a_name_resolving_to_a_private_address_is_refused(self) -> None:
        # What the name resolves to is not told (it would map our network), only that it is not allowed.
        with pytest.raises(
            WebhookTargetRefused, match=r"^url: localhost is not allowed; webhooks must go"
        ) as refused:
            await check_url("http://localhost:8080/hooks", allow_private=False)
        assert "127.0.0.1" not in refused.value.message and "::1" not in refused.value.message

    async def test_every_address_of_a_name_is_checked(self) -> None:
        with pytest.raises(WebhookTargetRefused, match=r"hooks\.example\.com is not allowed"):
            await check_url(
                "https://hooks.example.com/x",
                allow_private=False,
                resolver=resolving_to("8.8.8.8", "10.0.0.7"),
            )

    async def test_a_name_that_does_not_resolve_is_a_clear_error(self) -> None:
        with pytest.raises(InvalidInput, match="does not resolve"):
            await check_url("https://no-such-host.invalid/hooks", allow_private=False)

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("ftp://8.8.8.8/hooks", "url: must start with http:// or https://"),
            ("file:///etc/passwd", "url: must start with http:// or https://"),
            ("https:///hooks", "url: has no host"),
            ("https://8.8.8.8:99999/", "url: Port out of range 0-65535"),
        ],
    )
    async def test_only_http_and_https_urls_with_a_host(self, url: str, message: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            await check_url(url, allow_private=True)
        assert refused.value.message == message


class TestGuardedClient:
    async def test_it_connects_to_the_address_it_checked_not_to_a_second_lookup(self) -> None:
        # rebind.test cannot be resolved by the system: the request can only arrive if the client
        # connects to the address our resolver returned, while Host keeps the name.
        async with (
            running_receiver() as receiver,
            outbound_client(
                allow_private=True, timeout=5, user_agent="test", resolver=resolving_to("127.0.0.1")
            ) as client,
        ):
            answer = await client.post(f"http://rebind.test:{receiver.port}/hooks", content=b"{}")
        assert answer.status_code == 200
        [webhook] = receiver.received
        assert webhook.headers["host"] == f"rebind.test:{receiver.port}"

    async def test_a_private_target_is_refused_at_connection_time(self) -> None:
        async with running_receiver() as receiver:
            async with outbound_client(allow_private=False, timeout=5, user_agent="test") as client:
                with pytest.raises(WebhookTargetRefused, match=r"127\.0\.0\.1 is a loopback address"):
                    await client.post(receiver.url(), content=b"{}")
            assert receiver.received == []

    async def test_a_name_that_turns_private_is_refused_without_connecting(self) -> None:
        async with outbound_client(
            allow_private=False,
            timeout=5,
            user_agent="test",
            resolver=resolving_to("8.8.8.8", "169.254.169.254"),
        ) as client:
            with pytest.raises(WebhookTargetRefused, match=r"hooks\.example\.com is not allowed"):
                await client.post("https://hooks.example.com/x", content=b"{}")

    async def test_a_redirect_to_a_private_address_is_not_followed(self) -> None:
        async with running_receiver() as receiver:
            receiver.answer_next(Answer(302, {"Location": "http://169.254.169.254/latest/meta-data/"}))
            async with outbound_client(allow_private=True, timeout=5, user_agent="test") as client:
                answer = await client.post(receiver.url(), content=b"{}")
        assert answer.status_code == 302
        assert len(receiver.received) == 1

    async def test_proxies_from_the_environment_are_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
        async with (
            running_receiver() as receiver,
            outbound_client(allow_private=True, timeout=5, user_agent="test") as client,
        ):
            assert (await client.post(receiver.url(), content=b"{}")).status_code == 200

    async def test_ipv6_literal_hosts_are_checked_too(self) -> None:
        async with outbound_client(allow_private=False, timeout=5, user_agent="test") as client:
            with pytest.raises(WebhookTargetRefused, match="::1 is a loopback address"):
                await client.post("http://[::1]:9/hooks", content=b"{}")
        with pytest.raises(httpx.ConnectError):
            async with outbound_client(allow_private=True, timeout=5, user_agent="test") as client:
                await client.post("http://[::1]:9/hooks", content=b"{}")
