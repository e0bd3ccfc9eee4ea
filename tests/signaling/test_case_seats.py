"""Room seats are case participants (issue 7), against a real server over HTTP and Socket.IO: each
signed-in participant gets only their own seat from the case (party, agent, mediator, court
observer), named and cast by the case; the seat is the same every time; the mediator's link for a
party who cannot sign in opens that party's seat; and a removed participant stays out — with a
fresh invitation, by the mediator's link, and after the server restarts (issue 8 item 10)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from aiohttp import web

from mediation.accounts import Actor, Role
from mediation.cases import PartyDetails
from mediation.services import MediationServices
from signaling.api.accounts import SERVICES_KEY
from signaling.api.rooms import TOKENS_KEY
from signaling.app import create_app
from signaling.auth import API_KEYS_KEY
from signaling.config import load_settings
from tests.mediation.helpers import Person, application, make_staff, register_party
from tests.support.loopback_media import SETTINGS as LOOPBACK_MEDIA

from .conftest import Client
from .test_rooms_ownership import Caller, OutboxCodes, _call, _login

ORG = "锦江区人民调解委员会"
COURT = "成都市锦江区人民法院"
OTHER_COURT = "成都市武侯区人民法院"
APPLICANT_NAME = "张三"  # the name the case records for Alice (her account says "Alice")


@dataclass
class Node:
    """One server process's worth of app over a data directory that outlives it."""

    data_dir: Path
    url: str = ""
    app: web.Application | None = None
    runner: web.AppRunner | None = None
    clients: list[Client] = field(default_factory=list)

    async def start(self) -> "Node":
        self.app = create_app(load_settings(data_dir=self.data_dir, port=0, reconnect_grace_seconds=2.0,
                                            **LOOPBACK_MEDIA))
        self.runner = web.AppRunner(self.app, shutdown_timeout=2)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for client in self.clients:
            await client.close()
        self.clients.clear()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def client(self) -> Client:
        client = await Client(self.url).connect()
        self.clients.append(client)
        return client

    @property
    def services(self) -> MediationServices:
        assert self.app is not None
        return self.app[SERVICES_KEY]

    def claims(self, token: str) -> Any:
        assert self.app is not None
        return self.app[TOKENS_KEY].verify(token)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    running = await Node(tmp_path / "data").start()
    yield running
    await running.stop()


@dataclass
class Cast:
    case_id: str
    people: dict[str, Caller]
    persons: dict[str, Person]


async def _case_at_video_step(node: Node) -> Cast:
    """Alice (recorded as 张三) v. Bob, who has an agent (Dave); a mediator, a clerk of the case's
    court; and outsiders: Carol (a party of another case), a colleague, the organisation's
    administrator, a judge of another court."""
    services = node.services
    admin = (await services.accounts.bootstrap_admin("root", "Root", "correct horse battery")).as_actor()
    codes = OutboxCodes(services.accounts.sms.path)  # type: ignore[attr-defined]
    persons = {login: await register_party(services, codes, login, n, role)  # type: ignore[arg-type]
               for n, (login, role) in enumerate((("alice", Role.PARTY), ("bob", Role.PARTY), ("carol", Role.PARTY),
                                                   ("dave", Role.AGENT), ("erin", Role.PARTY)), start=1)}
    staff: dict[str, Actor] = {
        "mediator": await make_staff(services, admin, Role.MEDIATOR, "mediator1", organisation=ORG),
        "colleague": await make_staff(services, admin, Role.MEDIATOR, "mediator2", organisation=ORG),
        "org_admin": await make_staff(services, admin, Role.ORG_ADMIN, "orgadmin", organisation=ORG),
        "clerk": await make_staff(services, admin, Role.COURT_CLERK, "clerk1", court=COURT),
        "judge_elsewhere": await make_staff(services, admin, Role.JUDGE, "judge2", court=OTHER_COURT),
    }
    alice, bob = persons["alice"], persons["bob"]
    await services.accounts.authorise_agent(bob.actor, "dave", b"%PDF power of attorney", "poa.pdf", "application/pdf")
    recorded_as = PartyDetails(APPLICANT_NAME, alice.phone, alice.id_number, "1 Tianfu Road, Chengdu")
    case = await services.filing.apply(alice.actor, replace(application(alice, bob, court=COURT), applicant=recorded_as))
    await services.filing.apply(persons["carol"].actor, application(persons["carol"], persons["erin"]))
    await services.filing.answer_consent(bob.actor, case.id, True)
    await services.mediator_choice.choose_mediator(alice.actor, case.id, staff["mediator"].id)
    await services.mediator_choice.answer_assignment(staff["mediator"], case.id, True)
    await services.video.open_video(staff["mediator"], case.id)
    channels = {"mediator": "mediator", "colleague": "mediator", "org_admin": "mediator", "clerk": "court",
                "judge_elsewhere": "court"}
    people = {login: Caller(login, await _login(node, "party", login), person.actor)
              for login, person in persons.items() if login != "erin"}
    for name, actor in staff.items():
        login = {"mediator": "mediator1", "colleague": "mediator2", "org_admin": "orgadmin", "clerk": "clerk1",
                 "judge_elsewhere": "judge2"}[name]
        people[name] = Caller(name, await _login(node, channels[name], login), actor)
    return Cast(case.id, people, persons)


async def _invitation(node: Node, who: Caller, case_id: str, expect: int = 200, query: str = "") -> dict[str, Any]:
    status, body = await _call(node, who, "GET", f"/api/cases/{case_id}/invitation{query}")
    assert status == expect, (who.name, body)
    return body


async def _guest_link(node: Node, who: Caller, case_id: str, side: str, expect: int = 201) -> dict[str, Any]:
    status, body = await _call(node, who, "POST", f"/api/cases/{case_id}/video/guest-links", {"side": side})
    assert status == expect, (who.name, body)
    return body


async def test_each_participant_gets_only_their_own_seat(node: Node) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    alice = await _invitation(node, people["alice"], cid)
    bob = await _invitation(node, people["bob"], cid)
    dave = await _invitation(node, people["dave"], cid)
    mediator = await _invitation(node, people["mediator"], cid)
    clerk = await _invitation(node, people["clerk"], cid)
    seen = {name: (i["role"], i["side"], i["case_role"], i["name"], i["account_id"])
            for name, i in (("alice", alice), ("bob", bob), ("dave", dave), ("mediator", mediator), ("clerk", clerk))}
    assert seen == {
        "alice": ("party", "applicant", "applicant_party", APPLICANT_NAME, people["alice"].actor.id),
        "bob": ("party", "respondent", "respondent_party", "Bob", people["bob"].actor.id),
        "dave": ("agent", "respondent", "respondent_agent", "Dave", people["dave"].actor.id),
        "mediator": ("mediator", None, "mediator", "Mediator1", people["mediator"].actor.id),
        "clerk": ("observer", None, "court_clerk", "Clerk1", people["clerk"].actor.id),
    }
    assert dave["participant"] == bob["participant"] != alice["participant"]  # the agent speaks for Bob
    assert mediator["participant"] is None and clerk["participant"] is None
    # The token itself says who the seat is; the link opens it.
    claims = node.claims(dave["token"])
    assert (claims.room, claims.seat, claims.account_id, claims.case_role, claims.participant) == (
        dave["room_id"], dave["seat"], people["dave"].actor.id, "respondent_agent", bob["participant"])
    assert dave["url"].endswith(f"/join#{dave['token']}")
    assert len({i["seat"] for i in (alice, bob, dave, mediator, clerk)}) == 5

    # Nobody gets anyone else's seat: not the other side's, not by naming a side.
    refused = await _invitation(node, people["bob"], cid, 403, "?side=applicant")
    assert refused["error"]["code"] == "not_your_side"
    for outsider in ("carol", "colleague", "judge_elsewhere"):
        missing = await _invitation(node, people[outsider], cid, 404)
        assert missing["error"]["code"] == "case_not_found", (outsider, missing)
        absent = await _invitation(node, people[outsider], "CASE-0000000000", 404)
        assert missing["error"]["code"] == absent["error"]["code"]  # like a case that does not exist
    assert (await _invitation(node, people["org_admin"], cid, 403))["error"]["code"] == "forbidden"

    # The room shows each person by their part in the case.
    m, a = await node.client(), await node.client()
    assert (await m.call("join", {"token": mediator["token"]}))["ok"]
    ack = await a.call("join", {"token": alice["token"]})
    assert ack["ok"] and ack["seat"] == alice["seat"] and ack["you"]["case_role"] == "applicant_party"
    lobby = await m.wait_for("room:state", lambda s: len(s["participants"]) == 2)
    assert {(p["case_role"], p["name"]) for p in lobby["participants"]} == {("mediator", "Mediator1"),
                                                                           ("applicant_party", APPLICANT_NAME)}
    assert (await m.call("mod:admit", {"seat": alice["seat"]}))["ok"]
    await a.wait_for("room:state", lambda s: s["you"]["state"] == "admitted")

    # Entering again from the case page takes the same seat over (a reload, a second device).
    again = await _invitation(node, people["alice"], cid)
    assert again["seat"] == alice["seat"]
    a2 = await node.client()
    ack = await a2.call("join", {"token": again["token"]})
    assert ack["ok"] and ack["seat"] == alice["seat"] and ack["you"]["state"] == "admitted"
    assert (await a.wait_for("removed"))["reason"] == "replaced"
    state = await m.wait_for("room:state", lambda s: any(p["seat"] == alice["seat"] and p["state"] == "admitted"
                                                         for p in s["participants"]))
    assert len(state["participants"]) == 2


async def test_the_mediators_link_opens_the_named_partys_seat(node: Node) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    link = await _guest_link(node, people["mediator"], cid, "respondent")
    bob = await _invitation(node, people["bob"], cid)
    assert (link["seat"], link["participant"], link["name"], link["case_role"]) == (
        bob["seat"], bob["participant"], "Bob", "respondent_party")
    claims = node.claims(link["token"])
    assert (claims.account_id, claims.participant, claims.role, claims.side) == (None, bob["participant"], "party",
                                                                                 "respondent")
    # Only the case's mediator makes such links, only for a side of the case.
    assert (await _guest_link(node, people["alice"], cid, "respondent", 403))["error"]["code"] == "forbidden"
    assert (await _guest_link(node, people["colleague"], cid, "respondent", 404))["error"]["code"] == "case_not_found"
    assert (await _guest_link(node, people["mediator"], cid, "witness", 422))["error"]["code"] == "invalid_body"
    trail = await _call(node, people["mediator"], "GET", f"/api/cases/{cid}/timeline")
    assert [e["payload"]["seat"] for e in trail[1] if e["action"] == "video.guest_link"] == [link["seat"]]
    # A free-text invitation into a case's room is refused: its seats are the case's participants.
    room_id = link["room_id"]
    status, free = await _call(node, people["mediator"], "POST", f"/api/rooms/{room_id}/invites",
                               {"role": "party", "side": "respondent", "name": "Someone"})
    assert status == 409 and free["error"]["code"] == "case_room"


async def test_a_removed_participant_stays_out_also_after_a_restart(node: Node) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    mediator = await _invitation(node, people["mediator"], cid)
    link = await _guest_link(node, people["mediator"], cid, "respondent")  # Bob comes by the mediator's link
    m, b = await node.client(), await node.client()
    assert (await m.call("join", {"token": mediator["token"]}))["ok"]
    assert (await b.call("join", {"token": link["token"]}))["ok"]
    assert (await m.call("mod:remove", {"seat": link["seat"], "reason": "disruptive"}))["ok"]
    assert (await b.wait_for("removed"))["reason"] == "disruptive"
    # A room outside the case system, for issue 8 item 10: its removed link must stay dead too.
    key = await node.app[API_KEYS_KEY].create("tests", {"rooms"})  # type: ignore[index]
    service = Caller("service", key.key)
    plain_room = (await _call(node, service, "POST", "/api/rooms", {"case_id": "EXT-1"}))[1]["room_id"]
    plain_mediator = (await _call(node, service, "POST", f"/api/rooms/{plain_room}/invites",
                                  {"role": "mediator", "name": "调解员"}))[1]
    plain_party = (await _call(node, service, "POST", f"/api/rooms/{plain_room}/invites",
                               {"role": "party", "side": "applicant", "name": "赵六"}))[1]
    pm, pp = await node.client(), await node.client()
    assert (await pm.call("join", {"token": plain_mediator["token"]}))["ok"]
    assert (await pp.call("join", {"token": plain_party["token"]}))["ok"]
    assert (await pm.call("mod:remove", {"seat": plain_party["seat"]}))["ok"]

    async def stays_out() -> None:
        refused = await _invitation(node, people["bob"], cid, 403)
        assert refused["error"]["code"] == "removed_from_room"
        refused = await _guest_link(node, people["mediator"], cid, "respondent", 403)
        assert refused["error"]["code"] == "removed_from_room"
        for token in (link["token"], plain_party["token"]):
            ack = await (await node.client()).call("join", {"token": token})
            assert ack["ok"] is False and ack["error"]["code"] == "removed_from_room", ack
        # Others are not affected: Bob's agent still enters.
        dave = await _invitation(node, people["dave"], cid)
        assert (await (await node.client()).call("join", {"token": dave["token"]}))["ok"]

    await stays_out()
    await node.stop()
    await node.start()
    await stays_out()
