"""Rooms have owners (issue 8 item 1): another mediator, another organisation or a party cannot
read a room, mint an invitation into it or end it, whatever room id they hold; to them the room
answers exactly like a missing one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert

from mediation.accounts import Actor, Role
from mediation.services import MediationServices
from signaling.api.accounts import SERVICES_KEY
from signaling.app import ENGINE_KEY
from signaling.room_store import RoomRow
from tests.mediation.helpers import PASSWORD, application, make_staff, register_party

ORG_A = "锦江区人民调解委员会"
ORG_B = "武侯区人民调解委员会"


class OutboxCodes:
    """Reads one-time codes from the development SMS outbox of the running server."""

    def __init__(self, path: Path):
        self.path = path

    def last_code(self, phone: str) -> str:
        for line in reversed(self.path.read_text().splitlines()):
            sent = json.loads(line)
            if sent["phone"] == phone and (found := re.search(r"\b(\d{6})\b", sent["text"])):
                return found.group(1)
        raise AssertionError(f"no code sent to {phone}")


@dataclass
class Caller:
    name: str
    credential: str
    actor: Actor | None = None


async def _call(server: Any, who: Caller, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {who.credential}"}) as http:
        async with http.request(method, f"{server.url}{path}", json=body) as resp:
            return resp.status, await resp.json()


async def _login(server: Any, channel: str, login: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/auth/login",
                             json={"channel": channel, "login": login, "password": PASSWORD}) as resp:
            assert resp.status == 200, await resp.text()
            return (await resp.json())["token"]


async def _cast(server: Any) -> dict[str, Caller]:
    services: MediationServices = server.app[SERVICES_KEY]
    admin = (await services.accounts.bootstrap_admin("root", "Root", PASSWORD)).as_actor()
    staff = {"org_admin_a": (Role.ORG_ADMIN, ORG_A), "org_admin_b": (Role.ORG_ADMIN, ORG_B),
             "mediator_a": (Role.MEDIATOR, ORG_A), "colleague_a": (Role.MEDIATOR, ORG_A),
             "mediator_b": (Role.MEDIATOR, ORG_B)}
    cast = {"admin": Caller("admin", await _login(server, "admin", "root"), admin),
            "service": Caller("service", server.api_key)}
    for login, (role, organisation) in staff.items():
        actor = await make_staff(services, admin, role, login, organisation=organisation)
        cast[login] = Caller(login, await _login(server, "mediator", login), actor)
    return cast


async def _refused_like_a_missing_room(server: Any, who: Caller, room_id: str) -> None:
    for method, suffix, body in (("GET", "", None), ("POST", "/invites", {"role": "mediator", "name": "冒名"}),
                                 ("POST", "/invites", {"role": "party", "side": "applicant", "name": "冒名"}),
                                 ("DELETE", "", None)):
        status, answer = await _call(server, who, method, f"/api/rooms/{room_id}{suffix}", body)
        missing = await _call(server, who, method, f"/api/rooms/r_missing{suffix}", body)
        assert status == 404 and answer["error"]["code"] == "room_not_found", (who.name, method, answer)
        assert (status, answer) == missing


async def _manages(server: Any, who: Caller, room_id: str, *, case_room: bool = False) -> None:
    status, room = await _call(server, who, "GET", f"/api/rooms/{room_id}")
    assert status == 200 and room["room_id"] == room_id, (who.name, room)
    status, invite = await _call(server, who, "POST", f"/api/rooms/{room_id}/invites",
                                 {"role": "observer", "name": who.name})
    if case_room:  # a case's seats are its participants, invited from the case, not free-text names
        assert status == 409 and invite["error"]["code"] == "case_room", (who.name, invite)
    else:
        assert status == 201, (who.name, invite)


async def test_a_mediators_own_room_is_theirs_and_their_organisations(server, clients) -> None:
    cast = await _cast(server)
    status, room = await _call(server, cast["mediator_a"], "POST", "/api/rooms", {"case_id": "(2026)川0104民调7号"})
    assert status == 201
    room_id = room["room_id"]
    status, invite = await _call(server, cast["mediator_a"], "POST", f"/api/rooms/{room_id}/invites",
                                 {"role": "mediator", "name": "调解员甲"})
    assert status == 201
    mediator = await clients()
    assert (await mediator.call("join", {"token": invite["token"]}))["ok"]

    for outsider in ("colleague_a", "mediator_b", "org_admin_b"):
        await _refused_like_a_missing_room(server, cast[outsider], room_id)
    assert not [name for name, _ in mediator.received if name in ("room:ended", "removed")]  # the session lives on
    for manager in ("mediator_a", "org_admin_a", "admin", "service"):
        await _manages(server, cast[manager], room_id)

    status, ended = await _call(server, cast["org_admin_a"], "DELETE", f"/api/rooms/{room_id}")
    assert status == 200 and ended["ended_at"] is not None
    await mediator.wait_for("room:ended")


async def test_a_case_room_belongs_to_the_cases_mediator_and_organisation(server, tmp_path: Path) -> None:
    cast = await _cast(server)
    services: MediationServices = server.app[SERVICES_KEY]
    codes = OutboxCodes(services.accounts.sms.path)  # type: ignore[attr-defined]
    alice = await register_party(services, codes, "alice", 1)  # type: ignore[arg-type]
    bob = await register_party(services, codes, "bob", 2)  # type: ignore[arg-type]
    mediator = cast["mediator_a"].actor
    assert mediator is not None
    case = await services.filing.apply(alice.actor, application(alice, bob))
    await services.filing.answer_consent(bob.actor, case.id, True)
    await services.mediator_choice.choose_mediator(alice.actor, case.id, mediator.id)
    await services.mediator_choice.answer_assignment(mediator, case.id, True)
    room_id = (await services.video.open_video(mediator, case.id)).room_id
    assert room_id is not None

    party = Caller("alice", await _login(server, "party", "alice"))
    status, refused = await _call(server, party, "GET", f"/api/rooms/{room_id}")
    assert status == 403 and refused["error"]["code"] == "forbidden"  # parties join by their case's link only
    for outsider in ("colleague_a", "mediator_b", "org_admin_b"):
        await _refused_like_a_missing_room(server, cast[outsider], room_id)
    for manager in ("mediator_a", "org_admin_a", "admin", "service"):
        await _manages(server, cast[manager], room_id, case_room=True)


async def test_a_room_from_before_owners_is_managed_by_oversight_only(server) -> None:
    cast = await _cast(server)
    async with server.app[ENGINE_KEY].begin() as conn:  # what a database from an earlier release holds
        await conn.execute(insert(RoomRow).values(room_id="r_legacy", case_id="OLD-1", title="",
                                                  created_at=datetime.now(timezone.utc)))
    for outsider in ("mediator_a", "org_admin_a"):
        await _refused_like_a_missing_room(server, cast[outsider], "r_legacy")
    for manager in ("admin", "service"):
        await _manages(server, cast[manager], "r_legacy")
