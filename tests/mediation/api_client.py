"""An aiohttp test client over an app with the accounts, cases and court endpoints, plus
helpers to sign people in through their channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from mediation.services import MediationServices

from .doubles import MemorySms, id_number
from .helpers import PASSWORD


@dataclass
class User:
    """A signed-in person: ``token`` is their session, sent as a bearer credential."""

    token: str
    account: dict[str, Any]
    channel: str
    phone: str | None = None
    id_number: str | None = None

    @property
    def id(self) -> str:
        return self.account["id"]


@dataclass
class Api:
    client: TestClient
    services: MediationServices
    sms: MemorySms
    service_key: str
    users: dict[str, User] = field(default_factory=dict)

    async def call(self, method: str, path: str, who: User | str | None = None, *, json: Any = None,
                   data: bytes | None = None, headers: dict[str, str] | None = None,
                   expect: int | None = None) -> Any:
        sent = dict(headers or {})
        if isinstance(who, User):
            sent["Authorization"] = f"Bearer {who.token}"
        elif who is not None:
            sent["Authorization"] = f"Bearer {who}"
        response = await self.client.request(method, path, json=json, data=data, headers=sent)
        body = await response.json()
        if expect is not None:
            assert response.status == expect, (method, path, response.status, body)
        return body

    async def login(self, channel: str, login: str) -> User:
        body = await self.call("POST", "/api/auth/login", json={"channel": channel, "login": login,
                                                               "password": PASSWORD}, expect=200)
        return User(body["token"], body["account"], channel)

    async def sign_in_again(self, *users: User) -> None:
        """Sessions last hours; after the clock jumps days, people sign in again."""
        for user in users:
            user.token = (await self.login(user.channel, user.account["login"])).token

    async def register(self, login: str, serial: int, role: str = "party") -> User:
        phone = f"1390000{serial:04d}"
        number = id_number(serial)
        await self.call("POST", "/api/auth/code", json={"phone": phone}, expect=202)
        await self.call("POST", "/api/accounts/register", expect=201, json={
            "role": role, "login": login, "display_name": login.title(), "password": PASSWORD, "phone": phone,
            "id_number": number, "code": self.sms.last_code(phone)})
        user = await self.login("party", login)
        user.phone, user.id_number = phone, number
        return user

    async def staff(self, by: User, role: str, login: str, **extra: str) -> User:
        await self.call("POST", "/api/accounts/staff", by, expect=201, json={
            "role": role, "login": login, "display_name": login.title(), "password": PASSWORD, **extra})
        channel = {"mediator": "mediator", "org_admin": "mediator", "court_clerk": "court", "judge": "court",
                   "platform_admin": "admin"}[role]
        return await self.login(channel, login)


def application_body(applicant: User, respondent: User, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dispute_type": "loan", "claims": "repay the loan of 12,000 yuan", "facts": "lent on 2025-01-10, not repaid",
        "amount": "12000.00",
        "applicant": {"name": applicant.account["display_name"], "phone": applicant.phone,
                      "id_number": applicant.id_number, "address": "1 Tianfu Road, Chengdu"},
        "respondent": {"name": respondent.account["display_name"], "phone": respondent.phone,
                       "id_number": respondent.id_number, "address": "2 Jinjiang Road, Chengdu"},
    }
    body.update(overrides)
    return body
