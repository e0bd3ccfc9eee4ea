"""The remote-candidate policy and the choice of local addresses, as pure functions."""

from __future__ import annotations

import pytest
from aiortc import sdp

from rtc.errors import IceCandidateRefusedError
from rtc.ice_policy import CandidatePolicy, IceNetwork, LocalAddress, parse_networks
from rtc.sdp_validation import check_candidates

DEFAULT = CandidatePolicy()


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("169.254.169.254", "metadata"),  # AWS, GCP, Azure, Oracle, DigitalOcean, Huawei
        ("169.254.170.2", "metadata"),  # ECS task metadata
        ("fd00:ec2::254", "metadata"),  # AWS over IPv6
        ("100.100.100.200", "metadata"),  # Alibaba Cloud
        ("168.63.129.16", "metadata"),  # Azure wire server
        ("::ffff:169.254.169.254", "metadata"),  # the same service, IPv4-mapped
        ("64:ff9b::a9fe:a9fe", "metadata"),  # ... and through NAT64
        ("169.254.10.20", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unicast"),
        ("::", "unicast"),
        ("224.0.0.251", "unicast"),  # mDNS multicast
        ("ff02::1", "unicast"),
        ("255.255.255.255", "unicast"),
        ("0.1.2.3", "reserved"),
        ("240.0.0.1", "reserved"),
        ("example.org", "not an IP"),
    ],
)
def test_the_default_refuses(host: str, reason: str) -> None:
    refusal = DEFAULT.refusal(host, 3478)
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize(
    "host", ["192.0.2.2", "10.1.2.3", "172.16.5.4", "192.168.1.20", "100.64.0.1", "8.8.8.8", "2001:db8::5", "fd00::2"]
)
def test_the_default_allows_public_and_private_unicast(host: str) -> None:
    assert DEFAULT.refusal(host, 50000) is None


def test_a_port_outside_1_to_65535_is_refused() -> None:
    assert DEFAULT.refusal("192.0.2.2", 0) == "not a valid port"
    assert DEFAULT.refusal("192.0.2.2", 65536) == "not a valid port"


def test_loopback_only_when_configured() -> None:
    policy = CandidatePolicy(allow_loopback=True)
    assert policy.allows("127.0.0.1") and policy.allows("::1")
    assert not policy.allows("169.254.169.254") and not policy.allows("0.0.0.0")


def test_the_most_specific_network_decides() -> None:
    policy = CandidatePolicy(allowed_networks=parse_networks(["169.254.0.0/16"], "ice_allowed_networks"))
    assert policy.allows("169.254.7.8")  # a link-local LAN, allowed on purpose
    assert not policy.allows("169.254.169.254")  # the metadata /32 inside it stays refused
    explicit = CandidatePolicy(allowed_networks=parse_networks(["169.254.169.254"], "ice_allowed_networks"))
    assert explicit.allows("169.254.169.254")  # only when named exactly
    assert not explicit.allows("169.254.7.8")


def test_configured_refusals_add_to_the_built_in_ones() -> None:
    policy = CandidatePolicy(
        refused_networks=parse_networks(["10.0.0.0/8"], "ice_refused_networks"),
        allowed_networks=parse_networks(["10.20.0.0/16", "10.30.0.1/32"], "ice_allowed_networks"),
    )
    assert not policy.allows("10.1.2.3")
    assert policy.allows("10.20.3.4")  # a more specific allowance inside the refusal
    same = CandidatePolicy(
        refused_networks=parse_networks(["10.30.0.1"], "x"), allowed_networks=parse_networks(["10.30.0.1"], "x")
    )
    assert not same.allows("10.30.0.1")  # a tie is a refusal
    nothing_allows_multicast = CandidatePolicy(allowed_networks=parse_networks(["224.0.0.0/4"], "x"))
    assert not nothing_allows_multicast.allows("224.0.0.251")


def test_a_bad_network_names_its_setting() -> None:
    with pytest.raises(ValueError, match="ice_refused_networks"):
        parse_networks(["10.0.0.0/33"], "ice_refused_networks")
    with pytest.raises(ValueError, match="not an IP address"):
        IceNetwork(addresses=("eth0",))


LOCAL = [
    LocalAddress("lo", "127.0.0.1"),
    LocalAddress("lo", "::1"),
    LocalAddress("eth0", "192.0.2.2"),
    LocalAddress("eth0", "fd00::2"),
    LocalAddress("eth0", "fe80::fc:ff:fe00:1", scope_id=4),
    LocalAddress("eth1", "10.9.8.7"),
]


def test_gathering_on_named_interfaces_and_addresses() -> None:
    assert IceNetwork(interfaces=("eth0",)).gathering_addresses(LOCAL) == ["192.0.2.2", "fd00::2"]
    assert IceNetwork(addresses=("127.0.0.1",)).gathering_addresses(LOCAL) == ["127.0.0.1"]
    both = IceNetwork(interfaces=("eth1", "lo"), addresses=("10.9.8.7",))
    assert both.gathering_addresses(LOCAL) == ["127.0.0.1", "::1", "10.9.8.7"]
    assert not IceNetwork().restricted and IceNetwork(interfaces=("eth9",)).gathering_addresses(LOCAL) == []


def test_the_public_address_replaces_host_addresses_of_its_family() -> None:
    network = IceNetwork(public_address="203.0.113.7")
    assert network.advertised_host("10.9.8.7") == "203.0.113.7"
    assert network.advertised_host("fd00::2") == "fd00::2"
    assert IceNetwork().advertised_host("10.9.8.7") == "10.9.8.7"


def _offer_with(*candidates: str) -> sdp.SessionDescription:
    lines = [f"a=candidate:{i} 1 udp {2130706431 - i} {c} typ host" for i, c in enumerate(candidates)]
    text = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwxyz\r\n"
        "a=fingerprint:sha-256 00:11\r\na=setup:actpass\r\n" + "".join(line + "\r\n" for line in lines)
    )
    return sdp.SessionDescription.parse(text)


def test_an_sdp_whose_every_candidate_is_refused_gets_a_clear_code() -> None:
    with pytest.raises(IceCandidateRefusedError) as refused:
        check_candidates(_offer_with("169.254.169.254 80", "127.0.0.1 6379"), DEFAULT)
    assert refused.value.code == "ice_candidate_refused"
    assert "169.254.169.254:80 (a cloud metadata address)" in refused.value.message
    assert "127.0.0.1:6379 (a loopback address)" in refused.value.message


def test_an_sdp_with_one_usable_candidate_mdns_or_none_passes() -> None:
    check_candidates(_offer_with("169.254.169.254 80", "192.0.2.9 50000"), DEFAULT)  # the hooks drop the first
    check_candidates(_offer_with("0d5f1c4e-1d1b-4bd6-9a3b-5f2a1c0c9e1f.local 50000"), DEFAULT)
    check_candidates(_offer_with(), DEFAULT)
