"""Recording benchmark: the forwarding benchmark's room (N aiortc participants publishing
pre-encoded 640x480 30 fps VP8 + Opus into a bare ``MediaRouter`` in a server process), measured
in alternating windows with recording off and on (every participant's audio and video recorded),
in one run so both see the same machine load.

Reported (JSON lines ``{"metric", "value", "unit"}``):
- ``server_cpu_recording_off`` / ``_on``: the server process's CPU, median over the windows;
- ``recording_extra_cpu_per_track``: (on − off) / recorded tracks, % of one core (goal < 1 %);
- ``recording_bytes_per_track_minute``: bytes the recorder wrote (segment files, committed and
  open) per track and minute of recording, for audio and video separately;
- ``recording_frames_dropped``: frames the writer thread could not take (bounded queue);
- ``recording_finish_seconds``: ``stop()`` — last segments, joining each track, final time stamp,
  manifest — after each on-window.
The recorder writes into a throw-away data directory (SQLite, a development PKI for the time
stamps, a placeholder case row since no case workflow runs here).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.connection
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from aiortc import RTCSessionDescription  # noqa: E402

from bench.forwarding import Participant, emit, encode_clip, measure  # noqa: E402
from tests.support.loopback_media import NETWORK as LOOPBACK  # noqa: E402

CASE_ID = "bench_case"


async def _open_recorder_parts(data_dir: Path) -> tuple[Any, Any, Any]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from mediation.audit import GENESIS
    from mediation.clock import SystemClock
    from mediation.models import Case
    from mediation.schema import upgrade_engine
    from recordings.storage import LocalRecordingStorage
    from recordings.store import RecordingStore
    from signaling.database import make_engine
    from signing.pki import PlatformPKI
    from signing.tsa import InProcessTimeStamper, TimeStampAuthority

    engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'accord.sqlite3'}")
    await upgrade_engine(engine)
    db = async_sessionmaker(engine)
    now = datetime.now(timezone.utc)
    async with db.begin() as s:
        s.add(Case(id=CASE_ID, origin="application", dispute_type="bench", claims="-", facts="-", step="counselling",
                   status="open", created_by="bench", created_at=now, updated_at=now, audit_seq=0, audit_head=GENESIS))
    pki = PlatformPKI.init(data_dir / "pki", "bench-passphrase", "http://bench.invalid", "Bench")
    return (RecordingStore(db, SystemClock()), LocalRecordingStorage(data_dir / "recordings"),
            InProcessTimeStamper(TimeStampAuthority(pki)))


def serve(conn: multiprocessing.connection.Connection, data_dir: str, segment_seconds: float) -> None:
    """The server process: a MediaRouter, and a recorder of all its seats when told."""
    from recordings.session_recorder import RecorderSettings, SessionRecorder
    from recordings.store import CONSENTED
    from recordings.store import Participant as Seat
    from rtc.router import MediaRouter

    async def main() -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
        store, storage, timestamper = await _open_recorder_parts(Path(data_dir))

        async def offer_needed(seat: str) -> None:
            sdp = await router.make_offer(seat)
            if sdp is not None:
                conn.send(("offer", seat, sdp))

        router = MediaRouter([], network=LOOPBACK, policy=lambda s, p, k: True, on_offer_needed=offer_needed)
        recorder: SessionRecorder | None = None
        rounds = 0
        while True:
            message = await inbox.get()
            command = message[0]
            if command == "offer":
                _, seat, sdp = message
                conn.send(("answer", seat, await router.accept_offer(seat, sdp, reset=True)))
            elif command == "answer":
                _, seat, sdp = message
                await router.accept_answer(seat, sdp)
            elif command == "record":
                rounds += 1
                recorder = await SessionRecorder.start(
                    store, storage, timestamper, source=router, case_id=CASE_ID, room_id=f"bench-{rounds}",
                    policy={"joint": True}, settings=RecorderSettings(segment_seconds=segment_seconds))
                for seat in message[1]:
                    participant = Seat(seat, "party", "applicant_party", seat)
                    await store.record_consent(recorder.session.id, participant, CONSENTED)
                    await recorder.record(participant)
                conn.send(("recording", recorder.session.id))
            elif command == "stop_recording":
                assert recorder is not None
                started = time.monotonic()
                manifest = await recorder.stop()
                sizes = {kind: sum(s["size"] for t in manifest["tracks"] if t["kind"] == kind for s in t["segments"])
                         for kind in ("audio", "video")}
                conn.send(("stopped", time.monotonic() - started, recorder.dropped_frames, sizes,
                           manifest["session"]["end_us"] / 1e6))
                recorder = None
            elif command == "stop":
                await router.close()
                conn.send(("closed",))
                return

    asyncio.run(main())


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="accord-bench-recording-") as data_dir:
        context = multiprocessing.get_context("spawn")
        conn, theirs = context.Pipe()
        process = context.Process(target=serve, args=(theirs, data_dir, args.segment_seconds), daemon=True)
        process.start()
        theirs.close()
        loop = asyncio.get_running_loop()
        replies: dict[str, asyncio.Queue[tuple[Any, ...]]] = {}
        control: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        clip = encode_clip()
        participants = [Participant(i, clip) for i in range(args.participants)]

        async def answer_server_offer(index: int, sdp: str) -> None:
            participant = participants[index]
            async with participant.negotiating:
                conn.send(("answer", f"p{index}", await participant.answer(sdp)))

        def on_message() -> None:
            try:
                message = conn.recv()
            except EOFError:
                loop.remove_reader(conn.fileno())
                control.put_nowait(("gone",))
                return
            if message[0] == "offer":
                loop.create_task(answer_server_offer(int(message[1][1:]), message[2]))
            elif message[0] == "answer":
                replies[message[1]].put_nowait(message)
            else:
                control.put_nowait(message)

        async def reply() -> tuple[Any, ...]:
            message = await asyncio.wait_for(control.get(), 120)
            if message[0] == "gone":
                raise RuntimeError("the server process exited; see its traceback above")
            return message

        loop.add_reader(conn.fileno(), on_message)
        server = psutil.Process(process.pid)
        off, on, finish, dropped = [], [], [], 0
        written = {"audio": 0, "video": 0}
        recorded_seconds = 0.0
        seats = [f"p{p.index}" for p in participants]
        try:
            for participant in participants:
                replies[f"p{participant.index}"] = asyncio.Queue()
                async with participant.negotiating:
                    conn.send(("offer", f"p{participant.index}", await participant.offer()))
                    _, _, answer = await replies[f"p{participant.index}"].get()
                    await participant.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            await asyncio.sleep(args.warmup)
            for _ in range(args.rounds):
                window = await measure(participants, server, args.seconds)
                off.append(100 * window.server_cpu / window.wall)
                conn.send(("record", seats))
                await reply()
                await asyncio.sleep(1.0)  # keyframes asked, writers started: measure the steady state
                window = await measure(participants, server, args.seconds)
                on.append(100 * window.server_cpu / window.wall)
                conn.send(("stop_recording",))
                _, seconds, lost, sizes, duration = await reply()
                finish.append(seconds)
                dropped += lost
                recorded_seconds += duration
                for kind in written:
                    written[kind] += sizes[kind]
            conn.send(("stop",))
            await reply()
        finally:
            loop.remove_reader(conn.fileno())
            for participant in participants:
                await participant.close()
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()

    tracks = 2 * len(participants)
    emit("participants", len(participants), "peers")
    emit("recorded_tracks", tracks, "tracks")
    emit("measured_seconds_per_window", args.seconds, "s")
    emit("server_cpu_recording_off", statistics.median(off), "% of one core")
    emit("server_cpu_recording_on", statistics.median(on), "% of one core")
    emit("recording_extra_cpu_per_track", (statistics.median(on) - statistics.median(off)) / tracks, "% of one core")
    for kind in ("video", "audio"):
        per_minute = written[kind] / len(participants) / (recorded_seconds / 60) if recorded_seconds else float("nan")
        emit(f"recording_bytes_per_track_minute_{kind}", per_minute, "bytes")
    emit("recording_frames_dropped", dropped, "frames")
    emit("recording_finish_seconds", statistics.median(finish), "s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15, help="length of each measurement window")
    parser.add_argument("--rounds", type=int, default=2, help="off/on window pairs")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--segment-seconds", type=float, default=4.0)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
