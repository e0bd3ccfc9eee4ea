"""A recorded case session end to end through a real server (issue 10), with aiortc participants
publishing real VP8 and Opus: the mediator sets the policy and starts; Alice consents and Bob
refuses, so Bob has no track files and the others do, which decode on the session's clock; then
who may list, play (range requests, video/webm) and download — each role against each recording
endpoint — and the audit entry each access leaves."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from recordings.composite import FPS, TILE_H, TILE_W
from recordings.retention import sweep
from recordings.verify import verify_package
from signaling.api.pki import PKI_KEY
from signaling.api.recordings import ACCESS_KEY
from signaling.auth import API_KEYS_KEY
from signing.verification import _as_asn1
from tests.recordings.media import decode
from tests.support.aiortc_participant import Participant

from .test_case_seats import Node, _case_at_video_step, _invitation, node  # noqa: F401  (fixture)
from .test_recording_room import _policy, _settled_trail
from .test_rooms_ownership import Caller, _call

pytestmark = pytest.mark.timeout(150)


async def _get(node: Node, who: Caller, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {who.credential}", **(headers or {})}) as http:
        async with http.get(f"{node.url}{url}") as resp:
            return resp.status, await resp.read(), resp.headers


async def test_a_recorded_session_and_who_may_play_it(node: Node, tmp_path: Path) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    await _policy(node, people["mediator"], cid, "joint")
    parts = {name: Participant(node.url, (await _invitation(node, people[name], cid))["token"])
             for name in ("mediator", "alice", "bob")}
    mediator, alice, bob = parts["mediator"], parts["alice"], parts["bob"]
    try:
        for p in parts.values():
            await p.join()
        assert (await mediator.sio.call("mod:admit", {"all": True}))["ok"]
        for p in parts.values():
            await p.wait_admitted()
            await p.start_media()
        await alice.until(lambda: alice.frames[(mediator.seat, "video")] > 5 and alice.frames[(bob.seat, "video")] > 5,
                          20)
        started = await mediator.sio.call("rec:start", {})
        assert started["ok"], started
        assert (await alice.sio.call("rec:consent", {"consent": True}))["consent"] == "consented"
        assert (await bob.sio.call("rec:consent", {"consent": False}))["consent"] == "refused"
        await asyncio.sleep(6)
        assert (await mediator.sio.call("rec:stop", {}))["ok"]
        await _settled_trail(node, people["mediator"], cid)
    finally:
        for p in parts.values():
            await p.close()

    # --- what was written: the consenting seats' tracks, nothing of Bob's
    status, body = await _call(node, people["alice"], "GET", f"/api/cases/{cid}/recordings")
    assert status == 200, body
    (session,) = body["sessions"]
    assert session["id"] == started["session_id"] and session["state"] == "finished"
    assert {(c["seat"], c["answer"]) for c in session["consents"]} == {
        (mediator.seat, "consented"), (alice.seat, "consented"), (bob.seat, "refused")}
    tracks = {(t["seat"], t["kind"]): t for t in session["tracks"]}
    assert set(tracks) == {(s, k) for s in (mediator.seat, alice.seat) for k in ("audio", "video")}
    for track in tracks.values():
        status, data, headers = await _get(node, people["alice"], track["download_url"])
        assert status == 200 and headers["Content-Type"] == "video/webm", (status, data[:200])
        assert headers["Content-Disposition"].startswith("attachment")
        path = tmp_path / f"{track['id']}.webm"
        path.write_bytes(data)
        decoded = decode(path)
        # From the seat's consent (its next keyframe: up to ~2 s on a loaded machine) to the session's end.
        consented = next(c for c in session["consents"] if c["seat"] == track["seat"])["answered_at"]
        consented_s = (datetime.fromisoformat(consented) - datetime.fromisoformat(session["started_at"])).total_seconds()
        assert 0 <= decoded.first_s - consented_s < 2.0, (track, decoded, consented_s)
        assert abs(decoded.last_s - session["duration_s"]) < 1.0, (track, decoded)
        if track["kind"] == "audio":
            assert decoded.loudness > 0.01  # the participants' tone, not silence

    # --- the review composite, rendered in the worker process: one tile per consenting participant
    for _ in range(300):
        status, body = await _call(node, people["alice"], "GET", f"/api/cases/{cid}/recordings")
        composite = body["sessions"][0]["composite"]
        if composite["state"] not in ("none", "rendering"):
            break
        assert composite["state"] == "none" or 0.0 <= composite["progress"] <= 1.0
        await asyncio.sleep(0.2)
    assert composite["state"] == "ready", composite
    status, data, headers = await _get(node, people["alice"], composite["download_url"])
    assert status == 200 and headers["Content-Type"] == "video/webm"
    (tmp_path / "composite.webm").write_bytes(data)
    assert hashlib.sha256(data).hexdigest() == composite["sha256"]
    with av.open(str(tmp_path / "composite.webm")) as container:
        video = container.streams.video[0]
        assert (video.width, video.height) == (2 * TILE_W, TILE_H)  # mediator and Alice; Bob refused
        pictures = sum(1 for _ in container.decode(video=0))
    assert abs(pictures / FPS - session["duration_s"]) < 1.0
    manifest = (node.data_dir / "recordings" / session["id"] / "manifest.json").read_text()
    assert json.loads(manifest)["composite"]["sha256"] == composite["sha256"]

    # --- the recording package (for the verification page): everything the manifest lists, intact
    status, data, headers = await _get(node, people["alice"], body["sessions"][0]["package_url"])
    assert status == 200 and headers["Content-Type"] == "application/zip"
    (tmp_path / "package.zip").write_bytes(data)
    report = await verify_package(tmp_path / "package.zip", [_as_asn1(node.app[PKI_KEY].root_cert)])  # type: ignore[index]
    assert report.ok, report.findings
    assert report.manifest_sha256 == hashlib.sha256(manifest.encode()).hexdigest()

    # --- playing: range requests of a <video> element
    play = tracks[(alice.seat, "video")]["play_url"]
    status, first, headers = await _get(node, people["alice"], play, {"Range": "bytes=0-99"})
    assert (status, len(first), headers["Content-Type"]) == (206, 100, "video/webm")
    assert headers["Content-Range"].startswith("bytes 0-99/") and headers["Accept-Ranges"] == "bytes"
    status, more, _ = await _get(node, people["alice"], play, {"Range": "bytes=100-199"})
    assert status == 206 and len(more) == 100

    # --- each role against each recording endpoint
    service = Caller("service", (await node.app[API_KEYS_KEY].create("tests", {"cases:read"})).key)  # type: ignore[index]
    readers = ("alice", "bob", "dave", "mediator", "clerk")
    for name in readers:
        status, listed = await _call(node, people[name], "GET", f"/api/cases/{cid}/recordings")
        assert status == 200 and [s["id"] for s in listed["sessions"]] == [session["id"]], name
        own = listed["sessions"][0]["tracks"][0]["play_url"]
        assert (await _get(node, people[name], own))[0] == 200, name
        # Alice's link is Alice's: nobody else opens it, not even another reader of the case.
        if name != "alice":
            status, data, _ = await _get(node, people[name], play)
            assert status == 404 and b"link_invalid" in data, name
    for name in ("colleague", "carol", "judge_elsewhere"):  # a foreign mediator, another case's party, another court
        status, refused = await _call(node, people[name], "GET", f"/api/cases/{cid}/recordings")
        assert (status, refused["error"]["code"]) == (404, "case_not_found"), name
        status, data, _ = await _get(node, people[name], play)
        assert status == 404, name
    for who in (people["org_admin"], service):  # roles that never see recordings
        status, refused = await _call(node, who, "GET", f"/api/cases/{cid}/recordings")
        assert status == 403, who.name
        assert (await _get(node, who, play))[0] == 403, who.name
    status, missing = await _call(node, people["alice"], "GET", "/api/cases/CASE-0000000000/recordings")
    assert (status, missing["error"]["code"]) == (404, "case_not_found")

    # --- links expire and cannot be forged
    access = node.app[ACCESS_KEY]  # type: ignore[index]
    stale = access.links.issue(session["id"], tracks[(alice.seat, "video")]["id"], people["alice"].actor.id, "play",
                               now=time.time() - access.links.ttl_seconds - 1)
    status, data, _ = await _get(node, people["alice"], f"/api/recordings/media/{stale}")
    assert status == 404 and b"link_expired" in data
    forged = play.rsplit(".", 1)[0] + ".AAAA"
    assert (await _get(node, people["alice"], forged))[0] == 404

    # --- every access is on the record: listings, and each play or download from the first byte
    trail = await _settled_trail(node, people["mediator"], cid)
    played = [e for e in trail if e["action"] == "recording.played"]
    downloaded = [e for e in trail if e["action"] == "recording.downloaded"]
    assert {e["actor"] for e in downloaded} == {people["alice"].actor.id}
    assert len(downloaded) == 6 and {e["payload"]["file"] for e in downloaded} >= {"composite", "package"}
    assert len(played) == 1 + len(readers)  # Alice's range from 0 (not the one from 100), one per reader

    # --- retention: deleted on the record, never silently; the proof of what existed stays
    store, storage = access.store, access.storage
    deleted = await sweep(store, storage, node.services.recording_policy, retention=timedelta(0),
                          now=node.services.cases.clock.now() + timedelta(seconds=1))
    assert deleted == [session["id"]]
    assert storage.keys(session["id"]) == []
    status, body = await _call(node, people["alice"], "GET", f"/api/cases/{cid}/recordings")
    (gone,) = body["sessions"]
    assert (gone["state"], gone["tracks"], gone["composite"]["state"]) == ("deleted", [], "none")
    assert {c["seat"] for c in gone["consents"]} == {mediator.seat, alice.seat, bob.seat}
    assert len(await store.segments(session["id"])) > 0  # the hashes of what existed are kept
    status, data, _ = await _get(node, people["alice"], tracks[(alice.seat, "video")]["play_url"])
    assert status == 404 and b"recording_file_missing" in data
    trail = await _settled_trail(node, people["mediator"], cid)
    (entry,) = [e for e in trail if e["action"] == "recording.deleted"]
    assert entry["payload"]["session"] == session["id"] and entry["payload"]["files"] > 0
    assert (await _call(node, people["mediator"], "GET", f"/api/cases/{cid}/audit"))[1]["ok"]
