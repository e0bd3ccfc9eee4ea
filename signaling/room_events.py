"""Socket.IO handlers for rooms: validate, authorise, update the room, then tell everyone.

Handlers are plain async functions registered on a python-socketio ``AsyncServer``. Each returns
the acknowledgement (``{"ok": true, ...}`` or ``{"ok": false, "error": {...}}``); a bad event
never raises into python-socketio, so one client's garbage cannot hurt the room.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import socketio
from aiortc import RTCIceServer
from pydantic import BaseModel, ValidationError

from rtc.errors import RtcError
from rtc.router import MediaRouter

from . import events as ev
from .config import Settings, ice_network
from .room import Room, RoomError, Seat
from .room_store import RoomStore
from .tokens import TokenError, TokenIssuer

log = logging.getLogger(__name__)

Ack = dict[str, Any]


class EventError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def refuse(code: str, message: str) -> Ack:
    return {"ok": False, "error": {"code": code, "message": message}}


@dataclass
class LiveRoom:
    """A room with people in it on this node: its state, its media router, its connections."""

    room: Room
    router: MediaRouter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sid_of: dict[str, str] = field(default_factory=dict)  # seat -> sid
    #: Since when (monotonic) nobody has been connected; the reaper drops the room after the grace period.
    empty_since: float | None = None
    #: Set, under :attr:`lock`, once the room has left this node's memory: a join that held on to it starts over.
    dropped: bool = False
    #: A platform case's room (its ``room.case_id`` is a case of the case system, not a label).
    case_bound: bool = False


@dataclass
class Connection:
    room_id: str
    seat: str
    last_events: list[float] = field(default_factory=list)


class RoomHub:
    """Owns the live rooms of this process and serves their Socket.IO events."""

    #: Events a client may send per second before it is told to slow down.
    RATE_LIMIT = 40

    def __init__(self, sio: socketio.AsyncServer, store: RoomStore, tokens: TokenIssuer, settings: Settings):
        self.sio = sio
        self.store = store
        self.tokens = tokens
        self.settings = settings
        self.rooms: dict[str, LiveRoom] = {}
        self.connections: dict[str, Connection] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: Called with a live room (its lock held) before it closes for good or the server stops.
        self.closing_hooks: list[Callable[[LiveRoom, str], Awaitable[None]]] = []
        #: Called with a live room (its lock held) after each change, once media follows the new rules.
        self.state_hooks: list[Callable[[LiveRoom], Awaitable[None]]] = []
        #: Called (the room's lock held) after a mediator's action: (room, acting seat, action, details).
        self.moderation_hooks: list[Callable[[LiveRoom, Seat, str, dict[str, Any]], Awaitable[None]]] = []
        self._register()

    def _spawn(self, coro: Awaitable[None]) -> None:
        """Run after the current ack is sent (e.g. a re-offer); keep a reference until done."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ plumbing
    def _register(self) -> None:
        handlers: dict[str, tuple[type[BaseModel], Callable[..., Awaitable[Ack]]]] = {
            "leave": (ev.Leave, self.on_leave),
            "rtc:offer": (ev.Offer, self.on_offer),
            "rtc:answer": (ev.Answer, self.on_answer),
            "media:state": (ev.MediaState, self.on_media_state),
            "chat:send": (ev.ChatSend, self.on_chat),
            "mod:admit": (ev.Admit, self.on_admit),
            "mod:mute": (ev.Mute, self.on_mute),
            "mod:permit": (ev.Permit, self.on_permit),
            "mod:remove": (ev.Remove, self.on_remove),
            "mod:end": (ev.End, self.on_end),
            "caucus:start": (ev.CaucusStart, self.on_caucus_start),
            "caucus:end": (ev.CaucusEnd, self.on_caucus_end),
        }
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)
        self.sio.on("join", self._guarded("join", ev.Join, self.on_join, needs_join=False))
        for name, (model, handler) in handlers.items():
            self.sio.on(name, self._guarded(name, model, handler, needs_join=True))
        self.sio.on("*", self.on_unknown)

    def add_event(self, name: str, model: type[BaseModel],
                  handler: Callable[[str, "Connection", LiveRoom, Any], Awaitable[Ack]]) -> None:
        """Serve one more event of a joined seat (validated, rate-limited, under the room's lock)."""
        self.sio.on(name, self._guarded(name, model, handler, needs_join=True))

    def _guarded(self, name: str, model: type[BaseModel], handler: Callable[..., Awaitable[Ack]],
                 *, needs_join: bool) -> Callable[..., Awaitable[Ack]]:
        async def guarded(sid: str, data: Any = None, *extra: Any) -> Ack:
            try:
                if extra:
                    raise EventError("bad_event", f"{name} takes one payload object")
                self._rate_limit(sid)
                try:
                    size = len(json.dumps(data))
                except (TypeError, ValueError):
                    raise EventError("bad_event", "payload must be JSON") from None
                if size > self.settings.max_event_bytes:
                    raise EventError("too_large", f"payload of {size} bytes exceeds {self.settings.max_event_bytes}")
                if not isinstance(data, dict):
                    raise EventError("bad_event", f"{name} payload must be an object")
                try:
                    payload = model.model_validate(data)
                except ValidationError as exc:
                    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}"
                                         for e in exc.errors(include_url=False))
                    raise EventError("bad_event", f"invalid {name}: {problems}") from None
                if needs_join:
                    conn = self.connections.get(sid)
                    if conn is None:
                        raise EventError("not_joined", "send join with your invitation first")
                    live = self.rooms.get(conn.room_id)
                    if live is None:
                        raise EventError("room_ended", "the room is closed")
                    async with live.lock:
                        if live.room.seats.get(conn.seat) is None or live.sid_of.get(conn.seat) != sid:
                            raise EventError("not_in_room", "you are no longer in this room")
                        return await handler(sid, conn, live, payload)
                return await handler(sid, payload)
            except (EventError, RoomError, TokenError) as err:
                return refuse(err.code, err.message)
            except RtcError as err:
                return refuse(err.code, str(err))
            except Exception:
                log.exception("event handler failed", extra={"event": name})
                return refuse("internal", "the server could not handle this event")

        return guarded

    def _rate_limit(self, sid: str) -> None:
        conn = self.connections.get(sid)
        if conn is None:
            return
        now = time.monotonic()
        conn.last_events = [t for t in conn.last_events if now - t < 1.0]
        if len(conn.last_events) >= self.RATE_LIMIT:
            raise EventError("rate_limited", "too many events; slow down")
        conn.last_events.append(now)

    async def on_unknown(self, event: str, sid: str, *args: Any) -> Ack:
        return refuse("bad_event", f"unknown event {event[:40]!r}")

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        log.info("socket connected", extra={"sid": sid})

    # ------------------------------------------------------------------ live rooms
    def _new_router(self, room: Room) -> MediaRouter:
        room_id = room.room_id
        ice = [RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
               for s in self.settings.ice_servers]

        async def offer_needed(seat: str) -> None:
            await self._send_offer(room_id, seat)

        async def tracks_changed(seat: str) -> None:
            live = self.rooms.get(room_id)
            if live and (sid := live.sid_of.get(seat)):
                await self.sio.emit("rtc:tracks", {"tracks": live.router.track_map(seat)}, to=sid)

        async def active_speaker(subscribers: list[str], seat: str | None) -> None:
            """The router names only seats the subscribers hear (``Room.may_forward``)."""
            live = self.rooms.get(room_id)
            if live is None:
                return
            sids = [sid for subscriber in subscribers if (sid := live.sid_of.get(subscriber)) is not None]
            if sids:
                await self.sio.emit("speaker:active", {"seat": seat}, to=sids)

        return MediaRouter(ice, network=ice_network(self.settings), policy=room.may_forward,
                           on_offer_needed=offer_needed,
                           on_tracks_changed=tracks_changed, on_active_speaker=active_speaker)

    async def _live(self, room_id: str) -> LiveRoom:
        live = self.rooms.get(room_id)
        if live is not None:
            return live
        record = await self.store.get(room_id)
        if record is None:
            raise EventError("room_not_found", "this room does not exist")
        if record.ended_at is not None:
            raise EventError("room_ended", "the mediation session has ended")
        live = self.rooms.get(room_id)  # another join may have won the race while we awaited
        if live is None:
            room = Room(room_id=room_id, case_id=record.case_id)
            live = LiveRoom(room=room, router=self._new_router(room), case_bound=record.case_bound)
            self.rooms[room_id] = live
        return live

    async def _send_offer(self, room_id: str, seat: str) -> None:
        live = self.rooms.get(room_id)
        if live is None or (sid := live.sid_of.get(seat)) is None:
            return
        try:
            sdp = await live.router.make_offer(seat)
        except Exception:
            log.exception("could not create offer", extra={"seat": seat})
            return
        if sdp is not None:
            await self.sio.emit("rtc:offer", {"sdp": sdp, "tracks": live.router.track_map(seat)}, to=sid)

    async def broadcast_state(self, live: LiveRoom) -> None:
        """Send the room's state, then let media follow the new rules: one snapshot per group
        (joint, caucus, waiting) emitted once to all its members, so a change costs one payload
        per group rather than one per person; the mediator and the lobby get their own views."""
        live.router.refresh()
        for hook in self.state_hooks:
            await hook(live)
        audiences: dict[str, list[str]] = {}
        for seat, sid in list(live.sid_of.items()):
            if seat not in live.room.seats:
                continue
            group = live.room.audience_of(seat)
            if group is None:
                await self.sio.emit("room:state", live.room.snapshot_for(seat), to=sid)
            else:
                audiences.setdefault(group, []).append(sid)
        for group, sids in audiences.items():
            await self.sio.emit("room:state", live.room.shared_snapshot(group), to=sids)

    async def _drop_seat(self, live: LiveRoom, seat: str, reason: str) -> None:
        sid = live.sid_of.pop(seat, None)
        await live.router.remove(seat)
        if sid is not None:
            self.connections.pop(sid, None)
            await self.sio.emit("removed", {"reason": reason}, to=sid)
            await self.sio.disconnect(sid)

    # ------------------------------------------------------------------ join / leave
    async def on_join(self, sid: str, payload: ev.Join) -> Ack:
        if sid in self.connections:
            raise EventError("bad_event", "already joined; open a new connection to join another room")
        claims = self.tokens.verify(payload.token)
        live = await self._live(claims.room)
        async with live.lock:
            if live.dropped:  # emptied and dropped while this join awaited the store: seat it in a fresh one
                return await self.on_join(sid, payload)
            if await self.store.is_removed(claims.room, claims.seat, claims.account_id):
                raise EventError("removed_from_room", "the mediator removed you from this room")
            seat = live.room.join(claims)
            previous = live.sid_of.get(seat.seat)
            if previous is not None and previous != sid:
                self.connections.pop(previous, None)
                await self.sio.emit("removed", {"reason": "replaced"}, to=previous)
                await self.sio.disconnect(previous)
            live.sid_of[seat.seat] = sid
            self.connections[sid] = Connection(room_id=claims.room, seat=seat.seat)
            log.info("joined", extra={"room": claims.room, "seat": seat.seat, "role": seat.role, "state": seat.state})
            await self.broadcast_state(live)
            await self._send_chat_history(live, [seat.seat])
            snapshot = live.room.snapshot_for(seat.seat)
        return {"ok": True, "seat": seat.seat, "you": snapshot["you"], "room": snapshot,
                "ice_servers": [s.to_browser() for s in self.settings.ice_servers]}

    async def on_leave(self, sid: str, conn: Connection, live: LiveRoom, _: ev.Leave) -> Ack:
        live.room.leave(conn.seat)
        live.sid_of.pop(conn.seat, None)
        self.connections.pop(sid, None)
        await live.router.remove(conn.seat)
        await self.broadcast_state(live)
        return {"ok": True}

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        conn = self.connections.pop(sid, None)
        if conn is None:
            return
        live = self.rooms.get(conn.room_id)
        if live is None:
            return
        async with live.lock:
            if live.sid_of.get(conn.seat) != sid:
                return
            del live.sid_of[conn.seat]
            live.room.disconnect(conn.seat)
            log.info("disconnected", extra={"room": conn.room_id, "seat": conn.seat})
            await self.broadcast_state(live)

    # ------------------------------------------------------------------ media negotiation
    async def on_offer(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.Offer) -> Ack:
        seat = live.room.seats[conn.seat]
        if not seat.present:
            raise EventError("not_admitted", "wait until the mediator admits you")
        answer = await live.router.accept_offer(conn.seat, payload.sdp, reset=payload.reset)
        live.router.refresh()
        self._spawn(self._send_offer(conn.room_id, conn.seat))
        return {"ok": True, "sdp": answer, "tracks": live.router.track_map(conn.seat)}

    async def on_answer(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.Answer) -> Ack:
        await live.router.accept_answer(conn.seat, payload.sdp)
        live.router.refresh()
        self._spawn(self._send_offer(conn.room_id, conn.seat))
        return {"ok": True}

    async def on_media_state(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.MediaState) -> Ack:
        live.room.set_self_media(conn.seat, payload.audio, payload.video)
        await self.broadcast_state(live)
        return {"ok": True}

    # ------------------------------------------------------------------ chat
    async def on_chat(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.ChatSend) -> Ack:
        scope, recipients = live.room.chat_recipients(conn.seat)
        seat = live.room.seats[conn.seat]
        message = {"id": "m_" + secrets.token_urlsafe(8), "seat": seat.seat, "name": seat.name, "role": seat.role,
                   "text": payload.text, "ts": time.time(), "scope": scope}
        await self.store.add_chat(conn.room_id, message, live.room.caucus_side if scope == "caucus" else None)
        sids = [target_sid for target in recipients if (target_sid := live.sid_of.get(target)) is not None]
        if sids:
            await self.sio.emit("chat:message", message, to=sids)
        return {"ok": True, "id": message["id"]}

    async def _send_chat_history(self, live: LiveRoom, seats: list[str]) -> None:
        """``chat:history`` to each seat now in the room: what was said before it came (or reloaded)."""
        for seat_id in seats:
            seat = live.room.seats.get(seat_id)
            sid = live.sid_of.get(seat_id)
            if seat is None or sid is None or not seat.present:
                continue
            messages = await self.store.chat_history(live.room.room_id, mediator=seat.role == "mediator",
                                                     side=seat.side)
            await self.sio.emit("chat:history", {"messages": messages}, to=sid)

    # ------------------------------------------------------------------ moderation
    async def _moderated(self, live: LiveRoom, actor: str, action: str, details: dict[str, Any]) -> None:
        """A mediator's action: in the server log, and to the hooks (the case's audit trail)."""
        seat = live.room.seats[actor]
        log.info("moderation", extra={"room": live.room.room_id, "case": live.room.case_id, "actor": actor,
                                      "account": seat.account_id, "action": action, **details})
        for hook in self.moderation_hooks:
            try:
                await hook(live, seat, action, details)
            except Exception:
                log.exception("recording a moderation action failed",
                              extra={"room": live.room.room_id, "action": action})

    async def on_admit(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.Admit) -> Ack:
        admitted = live.room.admit(conn.seat, None if payload.all else payload.seat)
        await self.broadcast_state(live)
        await self._send_chat_history(live, admitted)
        await self._moderated(live, conn.seat, "admit", {"seats": admitted})
        return {"ok": True, "admitted": admitted}

    async def on_mute(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.Mute) -> Ack:
        live.room.set_mute(conn.seat, payload.seat, payload.kind, payload.muted)
        await self.broadcast_state(live)
        await self._moderated(live, conn.seat, "mute" if payload.muted else "unmute",
                              {"seat": payload.seat, "kind": payload.kind})
        return {"ok": True}

    async def on_permit(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.Permit) -> Ack:
        live.room.permit(conn.seat, payload.seat, payload.publish)
        await self.broadcast_state(live)
        await self._moderated(live, conn.seat, "permit" if payload.publish else "revoke", {"seat": payload.seat})
        return {"ok": True}

    async def on_remove(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.Remove) -> Ack:
        removed = live.room.remove(conn.seat, payload.seat)
        reason = payload.reason or "removed"
        await self.store.record_removal(conn.room_id, removed.seat, removed.account_id, reason)
        await self._drop_seat(live, payload.seat, reason)
        await self.broadcast_state(live)
        await self._moderated(live, conn.seat, "remove", {"seat": removed.seat, "reason": reason})
        return {"ok": True}

    async def on_end(self, sid: str, conn: Connection, live: LiveRoom, _: ev.End) -> Ack:
        live.room.end(conn.seat)
        await self._moderated(live, conn.seat, "end", {})
        await self.end_room(live)
        return {"ok": True}

    async def end_room(self, live: LiveRoom) -> None:
        """Close every connection and peer of the room and mark it ended for good."""
        await self._closing(live, "room_ended")
        live.room.status = "ended"
        await self.store.mark_ended(live.room.room_id)
        sids = list(live.sid_of.values())
        if sids:
            await self.sio.emit("room:ended", {}, to=sids)
        for sid in sids:
            self.connections.pop(sid, None)
        live.sid_of.clear()
        self._spawn(self._disconnect_later(sids))
        await live.router.close()
        self.rooms.pop(live.room.room_id, None)

    async def on_caucus_start(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.CaucusStart) -> Ack:
        live.room.start_caucus(conn.seat, payload.side)
        await self.broadcast_state(live)
        await self._moderated(live, conn.seat, "caucus_start", {"side": payload.side})
        return {"ok": True}

    async def on_caucus_end(self, sid: str, conn: Connection, live: LiveRoom, _: ev.CaucusEnd) -> Ack:
        side = live.room.caucus_side
        live.room.end_caucus(conn.seat)
        await self.broadcast_state(live)
        await self._moderated(live, conn.seat, "caucus_end", {"side": side})
        return {"ok": True}

    async def _disconnect_later(self, sids: list[str]) -> None:
        """Close sockets once the acknowledgement of the event that caused it has gone out."""
        await asyncio.sleep(0.2)
        for sid in sids:
            await self.sio.disconnect(sid)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        """Seats that stay disconnected past the grace period leave; the mediator's seat waits."""
        while True:
            await asyncio.sleep(min(5.0, self.settings.reconnect_grace_seconds / 2))
            for live in list(self.rooms.values()):
                async with live.lock:
                    gone = live.room.expire_reconnecting(self.settings.reconnect_grace_seconds)
                    for seat in gone:
                        await live.router.remove(seat)
                    if gone:
                        await self.broadcast_state(live)
                    await self._drop_if_empty(live)

    async def _drop_if_empty(self, live: LiveRoom) -> None:
        """A room nobody has been connected to for the grace period leaves memory (its router
        too); the next join rebuilds it from the store, where removals and the end are kept."""
        if live.sid_of:
            live.empty_since = None
            return
        now = time.monotonic()
        if live.empty_since is None:
            live.empty_since = now
        elif now - live.empty_since >= self.settings.reconnect_grace_seconds:
            await self._closing(live, "room_closed")  # e.g. a recording still running stops with it
            live.dropped = True
            self.rooms.pop(live.room.room_id, None)
            await live.router.close()
            log.info("empty room dropped from memory", extra={"room": live.room.room_id})

    async def _closing(self, live: LiveRoom, reason: str) -> None:
        """Every way a room leaves this node (ended, dropped when empty, shutdown) tells the same
        hooks; one failing hook does not keep the room open."""
        for hook in self.closing_hooks:
            try:
                await hook(live, reason)
            except Exception:
                log.exception("closing a room failed", extra={"room": live.room.room_id, "reason": reason})

    async def close(self) -> None:
        """Graceful shutdown: stop the reaper, tell clients, close every peer connection."""
        if self._reaper is not None:
            self._reaper.cancel()
        for live in list(self.rooms.values()):
            await self._closing(live, "server_shutdown")
            for sid in list(live.sid_of.values()):
                await self.sio.emit("error", {"code": "server_shutdown", "message": "the server is restarting"}, to=sid)
            await live.router.close()
        self.rooms.clear()
