"""Live case progress over Socket.IO: a signed-in person follows the cases they may read.

The client sends ``case:follow {case_id}`` on the same connection the room client uses (or one of
its own); the session comes from the ``accord_session`` cookie of the Socket.IO handshake. The
case system publishes ``case:event`` to the Socket.IO room ``case:<id>``. A follower also sits in
``session:<digest of its session>``, so that signing out (:meth:`CaseFollowers.session_ended`)
takes that session's sockets out of every case they follow — on every node: with Redis, the end
of a session is published (:class:`RedisSessionEnds`) and each node drops its own sockets.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable

import socketio
import redis.asyncio as redis
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .auth import SESSION_COOKIE, Principal

log = logging.getLogger(__name__)

SessionResolver = Callable[[str], Awaitable[Principal | None]]
FollowCheck = Callable[[Principal, str], Awaitable[bool]]


def _session_room(token: str) -> str:
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


class CaseFollow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    case_id: str = Field(min_length=1, max_length=64)


def _refuse(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


class CaseFollowers:
    """Handles ``case:follow`` / ``case:unfollow``; authorisation is the case system's read rule."""

    def __init__(self, sio: socketio.AsyncServer, sessions: SessionResolver, may_follow: FollowCheck):
        self.sio = sio
        self.sessions = sessions
        self.may_follow = may_follow
        #: Set when several nodes share Redis: how a sign-out reaches the others.
        self.ends: RedisSessionEnds | None = None
        sio.on("case:follow", self.on_follow)
        sio.on("case:unfollow", self.on_unfollow)

    def _session_token(self, sid: str) -> str | None:
        environ = self.sio.get_environ(sid) or {}
        morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(SESSION_COOKIE)
        return morsel.value if morsel else None

    async def session_ended(self, token: str) -> None:
        """Signing out ends what the session authorised: its sockets stop receiving case events,
        here at once and, through :attr:`ends` (Redis), on every other node."""
        room = _session_room(token)
        await self.drop_session_room(room)
        if self.ends is not None:
            await self.ends.publish(room)

    async def drop_session_room(self, room: str) -> None:
        """Take this node's sockets of ``session:<digest>`` out of every case they follow."""
        for sid, _ in list(self.sio.manager.get_participants("/", room)):
            for joined in self.sio.rooms(sid):
                if joined.startswith("case:") or joined == room:
                    await self.sio.leave_room(sid, joined)

    def _parse(self, data: Any) -> CaseFollow:
        if not isinstance(data, dict):
            raise ValueError("payload must be an object")
        return CaseFollow.model_validate(data)

    async def on_follow(self, sid: str, data: Any = None) -> dict[str, Any]:
        try:
            payload = self._parse(data)
        except (ValueError, ValidationError) as exc:
            return _refuse("bad_event", f"invalid case:follow: {exc}")
        token = self._session_token(sid)
        principal = await self.sessions(token) if token else None
        if token is None or principal is None:
            return _refuse("unauthenticated", "sign in first")
        if not await self.may_follow(principal, payload.case_id):
            return _refuse("not_found", "no such case")  # the same answer as for a case that does not exist
        await self.sio.enter_room(sid, _session_room(token))
        await self.sio.enter_room(sid, f"case:{payload.case_id}")
        return {"ok": True}

    async def on_unfollow(self, sid: str, data: Any = None) -> dict[str, Any]:
        try:
            payload = self._parse(data)
        except (ValueError, ValidationError) as exc:
            return _refuse("bad_event", f"invalid case:unfollow: {exc}")
        await self.sio.leave_room(sid, f"case:{payload.case_id}")
        return {"ok": True}


CASE_FOLLOWERS_KEY = web.AppKey("case_followers", CaseFollowers)


class RedisSessionEnds:
    """The end of a session, told to every node over a Redis channel: each node then drops its own
    sockets of that session (python-socketio's manager knows only its node's room members, so
    the node where someone signs out cannot reach sockets held elsewhere). The message is the
    session room's name (a digest), never the session token."""

    def __init__(self, url: str, channel: str, on_end: Callable[[str], Awaitable[None]]):
        self.redis = redis.Redis.from_url(url)
        self.channel = channel
        self.on_end = on_end
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen())
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def publish(self, room: str) -> None:
        await self.redis.publish(self.channel, room)

    async def _listen(self) -> None:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        self._subscribed.set()
        try:
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                room = message["data"].decode()
                if room.startswith("session:"):
                    try:
                        await self.on_end(room)
                    except Exception:
                        log.exception("could not end a session's case subscriptions")
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.redis.aclose()
