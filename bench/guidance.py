"""Guidance benchmark: JSON lines ``{"metric", "value", "unit"}``.

* assistant answers per second: the pure retrieval (:class:`Assistant`) and through the service
  (database freshness check, logging of unanswered questions), cycling through the held-out
  questions of ``tests/mediation/guidance_heldout.yaml`` for ``--seconds`` each;
* similar cases over ``--cases`` (default 100,000) fictional past cases: the import (segmenting
  and inserting), the index build from the stored terms, then the query time (median and p95 over
  ``--rounds`` descriptions) — SQLite, and with ``--postgres`` the local PostgreSQL in a schema of
  its own, dropped afterwards.

Run from the repository root: ``.venv/bin/python bench/guidance.py [--postgres] [--cases 100000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import yaml  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine  # noqa: E402

from mediation.clock import SystemClock  # noqa: E402
from mediation.guidance.assistant import Assistant, shipped_entries  # noqa: E402
from mediation.guidance.demo_corpus import demo_cases  # noqa: E402
from mediation.guidance.service import GuidanceService  # noqa: E402
from mediation.schema import upgrade_engine  # noqa: E402
from scratch_postgres import scratch_schema  # noqa: E402

HELD_OUT = yaml.safe_load((ROOT / "tests/mediation/guidance_heldout.yaml").read_text(encoding="utf-8"))
QUESTIONS = [q["q"] for q in HELD_OUT["questions"]] + HELD_OUT["off_topic"]
DESCRIPTIONS = ["房东退租时扣押金不退", "朋友借钱不还，有借条", "公司拖欠工资三个月", "楼上漏水导致天花板发霉",
                "车祸后保险公司不赔医疗费", "网购手机是翻新机商家不退款", "物业不管电梯故障我不交物业费",
                "信用卡逾期想分期还款", "包工头拖欠农民工工资", "手术后感染医院有过错吗", "子女不给父母赡养费",
                "供货延迟质量不合格拒付货款"]


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 3), "unit": unit}, ensure_ascii=False), flush=True)


def answers_per_second(seconds: float) -> None:
    assistant = Assistant(shipped_entries())
    assistant.reply("预热")
    count, start = 0, time.perf_counter()
    for question in itertools.cycle(QUESTIONS):
        assistant.reply(question)
        count += 1
        if time.perf_counter() - start >= seconds:
            break
    emit("assistant answers per second (retrieval only, one core)", count / (time.perf_counter() - start), "1/s")


async def service_answers(service: GuidanceService, seconds: float, label: str) -> None:
    await service.ask("预热")
    count, start = 0, time.perf_counter()
    for question in itertools.cycle(QUESTIONS):
        await service.ask(question)
        count += 1
        if time.perf_counter() - start >= seconds:
            break
    emit(f"assistant answers per second through the service ({label})", count / (time.perf_counter() - start), "1/s")


async def similar_cases(service: GuidanceService, cases: int, rounds: int, label: str) -> None:
    start = time.perf_counter()
    await service.import_cases(demo_cases(cases), batch=5000)
    emit(f"import of {cases:,} past cases, segmenting included ({label})", time.perf_counter() - start, "s")
    start = time.perf_counter()
    await service.similar("预热", 1)
    emit(f"similar-case index build from stored terms, {cases:,} cases ({label})", time.perf_counter() - start, "s")
    times = []
    for description in itertools.islice(itertools.cycle(DESCRIPTIONS), rounds):
        start = time.perf_counter()
        found = await service.similar(description, 5)
        times.append(time.perf_counter() - start)
        assert found, description
    times.sort()
    emit(f"similar-case query over {cases:,} cases, median ({label})", statistics.median(times) * 1000, "ms")
    emit(f"similar-case query over {cases:,} cases, p95 ({label})", times[int(len(times) * 0.95) - 1] * 1000, "ms")


async def run_on(engine: AsyncEngine, args: argparse.Namespace, label: str) -> None:
    await upgrade_engine(engine, pii_key=secrets.token_bytes(32))
    service = GuidanceService(async_sessionmaker(engine, expire_on_commit=False), SystemClock())
    await service.seed()
    await service_answers(service, args.seconds, label)
    await similar_cases(service, args.cases, args.rounds, label)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    answers_per_second(args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        try:
            await run_on(engine, args, "SQLite")
        finally:
            await engine.dispose()
    if args.postgres:
        async with scratch_schema("bench_guidance") as engine:
            await run_on(engine, args, "PostgreSQL")


if __name__ == "__main__":
    asyncio.run(main())
