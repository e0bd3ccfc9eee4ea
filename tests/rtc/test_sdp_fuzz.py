"""Mangled offers (mutations of a real one, and random text) only ever raise SdpError."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtc.errors import SdpError
from rtc_test_clients import TestClient, TestRoom, wait_for

pytestmark = pytest.mark.timeout(150)


def mutations(base: str) -> st.SearchStrategy[str]:
    lines = base.split("\r\n")
    index = st.integers(0, len(lines) - 1)
    junk = st.text(max_size=40)

    def delete(i: int) -> str:
        return "\r\n".join(lines[:i] + lines[i + 1 :])

    def replace(i: int, text: str) -> str:
        return "\r\n".join(lines[:i] + [text] + lines[i + 1 :])

    def duplicate(i: int) -> str:
        return "\r\n".join(lines[: i + 1] + lines[i:])

    def corrupt(i: int, at: int, text: str) -> str:
        line = lines[i]
        at = min(at, len(line))
        return replace(i, line[:at] + text + line[at + len(text) :])

    def swap(i: int, j: int) -> str:
        copy = list(lines)
        copy[i], copy[j] = copy[j], copy[i]
        return "\r\n".join(copy)

    return st.one_of(
        st.builds(delete, index),
        st.builds(replace, index, junk),
        st.builds(duplicate, index),
        st.builds(corrupt, index, st.integers(0, 80), junk),
        st.builds(swap, index, index),
        st.builds(lambda n: base[:n], st.integers(0, len(base))),
        st.text(max_size=300),
        st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    )


def test_mangled_offers_raise_only_sdp_error_and_the_router_keeps_working() -> None:
    loop = asyncio.new_event_loop()
    room = TestRoom.__new__(TestRoom)  # constructed inside the loop below

    async def setup() -> str:
        TestRoom.__init__(room)
        await room.join("alice")
        await room.join("bob")
        template = TestClient("fuzz")
        offer = await template.create_offer()
        await template.close()
        return offer

    base = loop.run_until_complete(setup())
    outcomes = {"accepted": 0, "refused": 0}

    async def attempt(sdp: str, reset: bool) -> None:
        try:
            await room.router.accept_offer("fuzz", sdp, reset=reset)
            outcomes["accepted"] += 1
        except SdpError as error:
            assert error.code == "invalid_sdp" and error.message
            outcomes["refused"] += 1

    @settings(
        max_examples=80, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(sdp=mutations(base), reset=st.booleans())
    def check(sdp: str, reset: bool) -> None:
        loop.run_until_complete(attempt(sdp, reset))

    try:
        check()
        assert outcomes["refused"] > 0

        async def still_works() -> None:
            await room.router.remove("fuzz")
            before = room.frames_from("bob", "alice", "video")
            await wait_for(lambda: room.frames_from("bob", "alice", "video") > before + 10, 10, "alice to bob")
            await room.join("carol")
            await wait_for(lambda: room.frames_from("carol", "alice", "video") > 5, 15, "a new participant")

        loop.run_until_complete(still_works())
    finally:
        loop.run_until_complete(room.close())
        loop.close()
