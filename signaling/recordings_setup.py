"""Wires :mod:`recordings` into the app: the store and storage every recording endpoint and room
uses, the recorder settings from the configuration, and crash recovery at start-up (after the
migrations, before any room can start a new recording), then the review composites a restart cut
off are queued again."""

from __future__ import annotations

from aiohttp import web

from mediation.services import MediationServices
from recordings.access import RecordingAccess
from recordings.recovery import recover_interrupted
from recordings.session_recorder import RecorderSettings
from recordings.storage import LocalRecordingStorage
from recordings.store import RecordingStore

from .api.pki import TSA_KEY, platform_timestamper
from .config import Settings, ensure_secret

RECORDING_STORE_KEY = web.AppKey("recording_store", RecordingStore)
RECORDING_STORAGE_KEY = web.AppKey("recording_storage", LocalRecordingStorage)
RECORDER_SETTINGS_KEY = web.AppKey("recorder_settings", RecorderSettings)
RECORDING_ACCESS_KEY = web.AppKey("recording_access", RecordingAccess)


def node_id(settings: Settings) -> str:
    """This node's id, kept in its data directory: a node recovers only its own recordings."""
    return ensure_secret(settings, "node-id", 8).hex()


def recorder_settings(settings: Settings) -> RecorderSettings:
    return RecorderSettings(segment_seconds=settings.recording_segment_seconds,
                            stamp_interval_seconds=settings.recording_stamp_seconds, node=node_id(settings))


def setup_recordings(app: web.Application, settings: Settings, services: MediationServices) -> None:
    """Call after ``install_pki`` and ``setup_cases`` (whose start-up runs the migrations)."""
    store = RecordingStore(services.db, services.cases.clock)
    storage = LocalRecordingStorage(settings.data_dir / "recordings")
    app[RECORDING_STORE_KEY] = store
    app[RECORDING_STORAGE_KEY] = storage
    app[RECORDER_SETTINGS_KEY] = recorder_settings(settings)

    async def recover(_: web.Application) -> None:
        node = app[RECORDER_SETTINGS_KEY].node
        await recover_interrupted(store, storage, platform_timestamper(settings, app[TSA_KEY]), node=node)
        if RECORDING_ACCESS_KEY in app:
            await app[RECORDING_ACCESS_KEY].composer.resume(node=node)

    app.on_startup.append(recover)
