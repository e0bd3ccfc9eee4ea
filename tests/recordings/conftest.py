"""The mediation fixtures (a migrated SQLite and PostgreSQL database, services on a manual clock)
and a recording store over them."""

from __future__ import annotations

import pytest

from mediation.services import MediationServices
from recordings.store import RecordingStore
from tests.mediation.conftest import clock, court_pki, engine, events, pg_schema, rooms, services, sms  # noqa: F401


@pytest.fixture
def store(services: MediationServices) -> RecordingStore:
    return RecordingStore(services.db, services.cases.clock)
