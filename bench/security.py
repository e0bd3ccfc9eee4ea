"""Security benchmark: JSON lines ``{"metric", "value", "unit"}``.

* ``POST /api/verify``'s work, side by side, on the adversarial file of issue 8 (240 KB of
  ``%%EOF`` lines inside a well-formed PDF) and on a genuine five-signature B-LTA agreement: the
  sandboxed child (revision hashes, parse, judgement) plus the case match, median wall time;
  and the revision hashes alone for 20 MB with as many ``%%EOF`` markers as the verifier allows;
* one-time-code login over HTTP (accounts endpoints, real aiohttp app): correct-code logins per
  second (one code per phone, ``--concurrency`` clients), and wrong guesses answered per second
  when 25 arrive at once for one code, with how many of them were compared (the limit is 5);
  then 25 parallel wrong passwords at one login under the sign-in throttle: answered per second,
  and how many reached argon2 (the limit is 5);
* a room's state broadcast for ``--seats`` people: payloads serialised per change, one per person
  before (each their own snapshot) and one per group now, and the time to build them.
  SQLite by default; ``--postgres`` repeats it on the local PostgreSQL in a schema of its own.

Run from the repository root: ``.venv/bin/python bench/security.py [--rounds 5] [--postgres]``.
About a minute, most of it building the signed agreement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "signing")]

# Only the standard library up here: each verifier child re-runs this file's top level (multiprocessing
# prepares ``__main__`` in every child it starts), and the server's own entry point is as light. Heavy
# imports at the top would be timed as part of every verification.

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PARALLEL_GUESSES = 25


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 4), "unit": unit}), flush=True)


# --- the verifier ---------------------------------------------------------------------------
async def verify_like_the_endpoint(pdf: bytes, platform: Any, lookup: Any) -> str:
    """What ``POST /api/verify`` does once the upload is read: the child, then the case match
    (an index look-up in the agreement tables)."""
    from signing.case_match import match_to_platform
    from signing.verification import VerificationError, verify_upload_safely

    try:
        verified = await asyncio.to_thread(verify_upload_safely, pdf, [platform.pki.root_cert])
    except VerificationError:
        return "refused"
    await match_to_platform(pdf, lookup, prefixes=verified.prefix_hashes)
    return "valid" if verified.report.valid else "invalid"


async def median_seconds(rounds: int, pdf: bytes, platform: Any, lookup: Any, expect: str) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        outcome = await verify_like_the_endpoint(pdf, platform, lookup)
        times.append(time.perf_counter() - started)
        if outcome != expect:
            raise SystemExit(f"expected {expect}, got {outcome}")
    return statistics.median(times)


async def verifier(rounds: int, work: Path) -> None:
    from pades_samples import FIVE_SEATS, Platform, eof_flood
    from mediation.clock import SystemClock
    from mediation.demo_data import DemoOutbox
    from mediation.schema import upgrade_engine
    from mediation.services import build_services
    from signaling.database import make_engine
    from signing.fonts import cjk_stamp_font
    from signing.verification import MAX_REVISIONS, revision_prefix_hashes

    cjk_stamp_font()
    platform = Platform.create(work / "pki")
    engine = make_engine(f"sqlite+aiosqlite:///{work / 'verify.sqlite3'}")
    await upgrade_engine(engine)
    services = build_services(engine, data_dir=work / "verify-data", pii_key=secrets.token_bytes(32),
                              code_key=secrets.token_bytes(32), clock=SystemClock(), sms=DemoOutbox(), rooms=None)
    lookup = services.agreements.locked_with
    agreement = await platform.full_agreement(FIVE_SEATS)
    flood = eof_flood()
    emit("verify_eof_flood_240kb_median", await median_seconds(rounds, flood, platform, lookup, "refused"), "s")
    emit("verify_five_signatures_median", await median_seconds(rounds, agreement, platform, lookup, "valid"), "s")
    emit("five_signature_agreement_size", len(agreement), "bytes")
    most = b"%PDF-1.7\n" + (b"%%EOF" + b"\r\n" * 50_000) * MAX_REVISIONS
    started = time.perf_counter()
    revision_prefix_hashes(most)
    emit("revision_hashes_20mb_max_markers", time.perf_counter() - started, "s")
    await engine.dispose()


# --- one-time codes -------------------------------------------------------------------------
async def code_logins(engine: Any, label: str, data_dir: Path, seconds: float, concurrency: int) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer
    from sqlalchemy import insert

    from mediation.accounts import CODE_MAX_ATTEMPTS
    from mediation.clock import SystemClock
    from mediation.demo_data import DemoOutbox
    from mediation.login_throttle import ACCOUNT_RULE
    from mediation.models import Account
    from mediation.schema import upgrade_engine
    from mediation.services import build_services
    from signaling.api.accounts import make_session_resolver
    from signaling.api.cases import setup_cases
    from mediation.api_keys import ApiKeyService
    from signaling.auth import SCOPES, make_auth_middleware
    from signaling.config import Settings
    from signaling.errors import error_middleware
    from signaling.openapi import ApiRegistry
    from signaling.openapi import api as registry

    await upgrade_engine(engine)
    outbox = DemoOutbox()
    services = build_services(engine, data_dir=data_dir, pii_key=secrets.token_bytes(32),
                              code_key=secrets.token_bytes(32), clock=SystemClock(), sms=outbox, rooms=None)
    accounts = 4000  # more than any run logs in: one code per phone and minute
    now = datetime.now(timezone.utc)
    async with engine.begin() as conn:  # parties straight into the table: argon2 is not what is measured
        await conn.execute(insert(Account), [
            {"id": f"a_bench{i:06d}", "role": "party", "login": f"bench-p{i}", "display_name": f"p{i}",
             "phone": f"1710{i:07d}", "created_at": now} for i in range(accounts)])
    settings = Settings(data_dir=data_dir)
    app = web.Application(middlewares=[error_middleware, make_auth_middleware(
        ApiKeyService(services.db, SystemClock(), secrets.token_bytes(32), SCOPES),
        make_session_resolver(services.accounts))])
    setup_cases(app, settings, engine, services, scan_interval=None)
    ApiRegistry([ep for ep in registry.endpoints if ep.tag == "accounts"]).install(app)
    client = TestClient(TestServer(app))
    await client.start_server()

    async def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = await client.post(path, json=body)
        return response.status, await response.json()

    try:
        phones = iter(f"1710{i:07d}" for i in range(accounts))
        logins = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal logins
            while time.perf_counter() < stop:
                phone = next(phones)
                status, _ = await post("/api/auth/code", {"phone": phone})
                assert status == 202
                status, body = await post("/api/auth/login/code",
                                          {"channel": "party", "phone": phone, "code": outbox.code_for(phone)})
                assert status == 200, body
                logins += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        emit(f"{label}_code_logins_per_second", logins / (time.perf_counter() - started), "1/s")

        phone = next(phones)
        await post("/api/auth/code", {"phone": phone})
        good = outbox.code_for(phone)
        wrong = [f"{(int(good) + k) % 10**6:06d}" for k in range(1, PARALLEL_GUESSES + 1)]
        started = time.perf_counter()
        answers = await asyncio.gather(*(post("/api/auth/login/code", {"channel": "party", "phone": phone, "code": c})
                                         for c in wrong))
        elapsed = time.perf_counter() - started
        compared = sum(1 for _, body in answers if body["error"]["message"] == "the code is wrong")
        emit(f"{label}_parallel_wrong_codes_answered_per_second", len(answers) / elapsed, "1/s")
        emit(f"{label}_parallel_wrong_codes_compared_of_{PARALLEL_GUESSES}", compared,
             f"guesses (limit {CODE_MAX_ATTEMPTS})")
        status, _ = await post("/api/auth/login/code", {"channel": "party", "phone": phone, "code": good})
        emit(f"{label}_right_code_after_limit_status", status, "http status")

        # Password guesses at one login under the throttle: past the limit each is refused before argon2.
        started = time.perf_counter()
        answers = await asyncio.gather(*(post("/api/auth/login", {"channel": "party", "login": "bench-p0",
                                                                  "password": f"wrong password {k}"})
                                         for k in range(PARALLEL_GUESSES)))
        elapsed = time.perf_counter() - started
        emit(f"{label}_password_guesses_answered_per_second", len(answers) / elapsed, "1/s")
        emit(f"{label}_password_guesses_hashed_of_{PARALLEL_GUESSES}", sum(1 for st, _ in answers if st == 401),
             f"argon2 runs (limit {ACCOUNT_RULE.limit})")
    finally:
        await client.close()
        await engine.dispose()


def room_broadcast(seats: int, rounds: int) -> None:
    """The cost of one ``room:state`` broadcast in a room of ``seats`` admitted people (mediator
    included), with a caucus running: a snapshot per person (before) against one per group and
    the mediator's own (now, :meth:`signaling.room_events.RoomHub.broadcast_state`)."""
    from signaling.room import Room
    from signaling.tokens import JoinClaims

    room = Room(room_id="bench", case_id="BENCH-1")
    room.join(JoinClaims(room="bench", seat="m", role="mediator", side=None, name="m", iat=0, exp=10**10))
    for i in range(seats - 1):
        side = "applicant" if i % 2 else "respondent"
        room.join(JoinClaims(room="bench", seat=f"s{i}", role="party", side=side, name=f"p{i}", iat=0, exp=10**10))
    room.admit("m")
    room.start_caucus("m", "applicant")

    def per_person() -> list[str]:
        return [json.dumps(room.snapshot_for(seat)) for seat in room.seats]

    def per_group() -> list[str]:
        groups = {room.audience_of(seat) for seat in room.seats} - {None}
        return [json.dumps(room.snapshot_for("m"))] + [json.dumps(room.shared_snapshot(g)) for g in groups]

    for label, build in (("per_person", per_person), ("per_group", per_group)):
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            payloads = build()
            times.append(time.perf_counter() - start)
        emit(f"room_state_payloads_{label}_{seats}_seats", len(payloads), "payloads")
        emit(f"room_state_build_{label}_{seats}_seats", statistics.median(times) * 1000, "ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to log in with codes")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="also measure code logins on PostgreSQL")
    parser.add_argument("--seats", type=int, default=100, help="people in the room of the broadcast figure")
    args = parser.parse_args()
    room_broadcast(args.seats, args.rounds)
    import asyncpg
    from sqlalchemy.ext.asyncio import create_async_engine

    from signaling.database import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        await verifier(args.rounds, work)
        await code_logins(make_engine(f"sqlite+aiosqlite:///{work / 'codes.sqlite3'}"), "sqlite", work / "sqlite",
                          args.seconds, args.concurrency)
        if args.postgres:
            schema = f"bench_security_{secrets.token_hex(4)}"
            conn = await asyncpg.connect(PG_DSN)
            await conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                engine = create_async_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
                await code_logins(engine, "postgresql", work / "pg", args.seconds, args.concurrency)
            finally:
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                await conn.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # pyHanko narrates every offline validation
    asyncio.run(main())
