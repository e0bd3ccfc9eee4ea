"""Server settings: defaults, then ``accord.toml``, then ``ACCORD_*`` environment variables.

Every setting has a safe default so ``accord serve`` works on a fresh machine: SQLite in the
data directory, no Redis, a development PKI and a random token secret created on first start.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from identity.checks import IdentityPolicy
from mediation.outbound import OutboundPolicy, OutboundRefused
from rtc.ice_policy import CandidatePolicy, IceNetwork, parse_networks as parse_ice_networks

from .client_address import parse_networks


@dataclass(frozen=True)
class IceServer:
    """One STUN/TURN server handed to aiortc and to browsers."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None

    def to_browser(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urls": self.urls}
        if self.username is not None:
            out["username"] = self.username
        if self.credential is not None:
            out["credential"] = self.credential
        return out


@dataclass(frozen=True)
class Settings:
    """All knobs of one server process. Documented in the README's configuration table."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./accord-data")
    public_url: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "accord"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_self_signed: bool = False
    ice_servers: tuple[IceServer, ...] = ()
    #: Interfaces (``eth0``) whose addresses ICE gathers host candidates on; with ``ice_addresses``
    #: empty too, every interface except loopback.
    ice_interfaces: tuple[str, ...] = ()
    #: Local addresses ICE gathers on, besides ``ice_interfaces``' (``127.0.0.1`` for loopback only).
    ice_addresses: tuple[str, ...] = ()
    #: A 1:1 NAT's public address: advertised instead of the private one in host candidates.
    ice_public_address: str | None = None
    #: Whether clients may name loopback addresses as ICE candidates (tests, benches).
    ice_allow_loopback: bool = False
    #: Networks the server never sends ICE checks to, besides link-local, metadata and loopback.
    ice_refused_networks: tuple[str, ...] = ()
    #: Exceptions to the built-in refusals (the most specific network decides).
    ice_allowed_networks: tuple[str, ...] = ()
    log_level: str = "INFO"
    log_format: str = "json"
    token_ttl_seconds: int = 4 * 3600
    max_event_bytes: int = 64 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    #: The largest recording package zip the verification page takes (streamed to disk, never in memory).
    max_package_bytes: int = 2 * 1024**3
    #: Addresses or networks of reverse proxies whose ``X-Forwarded-For`` is believed.
    trusted_proxies: tuple[str, ...] = ()
    #: Public guidance calls (assistant questions, similar cases, consultation requests) per client
    #: address, and assistant questions per Socket.IO connection, in any minute.
    guidance_per_minute: int = 30
    #: The estimator's typical lawyer fee: this share of the amount in dispute, at least the minimum
    #: (yuan). Local guide scales differ; set them to your region's.
    guidance_lawyer_rate: float = 0.05
    guidance_lawyer_minimum: int = 3000
    reconnect_grace_seconds: float = 60.0
    key_passphrase: str | None = field(default=None, repr=False)
    #: A file holding the PKI passphrase; in production it must lie outside ``data_dir``.
    key_passphrase_file: Path | None = None
    tsa_url: str | None = None
    identity_gate: str = "face"
    #: The checks a signer passes before signing: a '+'-joined choice of face, liveness, otp,
    #: session (the recorded-session comparison: reported by default, required only when named) and
    #: provider (the real-name provider at ``identity_provider_url``).
    identity_policy: str = "face+liveness+otp"
    #: Days an enrolled reference photo is kept before the sweep deletes it.
    identity_retention_days: int = 90
    #: PEM files of the certificates trusted to sign identity providers' verdicts (each a trust
    #: anchor: the provider signs with it or with a certificate it issued directly). Empty: no
    #: provider verdict is accepted.
    identity_provider_certificates: tuple[Path, ...] = ()
    #: The real-name provider this server asks (name, ID number, a live frame → a signed verdict)
    #: when the policy names ``provider``: its URL (through the webhooks' outbound policy) and the
    #: name its verdicts state (``provider:<name>``).
    identity_provider_url: str | None = None
    identity_provider_name: str = "realname"
    environment: str = "development"
    deadline_scan_seconds: float = 60.0
    #: Length of a recording segment: what a crash can lose at most, and the granularity of the chain.
    recording_segment_seconds: float = 4.0
    #: How often a running recording's chain head is time-stamped (and once more at its end).
    recording_stamp_seconds: float = 60.0
    webhook_allow_http: bool = False
    webhook_allowed_hosts: tuple[str, ...] = ()
    #: How long a link to play or download a recording works (it also needs the session it was issued to).
    recording_link_seconds: int = 600
    #: Recordings older than this many days are deleted (audited); 0 keeps them.
    recording_retention_days: int = 0
    recording_sweep_seconds: float = 3600.0
    #: ``/metrics`` (Prometheus) on the main port for ``Authorization: Bearer <token>`` (16+ characters).
    metrics_token: str | None = field(default=None, repr=False)
    #: ``host:port`` of a separate listener serving ``/metrics`` (and nothing else). Neither set: no metrics.
    metrics_bind: str | None = None

    @property
    def scheme(self) -> str:
        return "https" if (self.tls_cert or self.tls_self_signed) else "http"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "127.0.0.1") else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'accord.sqlite3').resolve()}"

    def secret_file(self, name: str) -> Path:
        return self.data_dir / "secrets" / name


_ENV_PREFIX = "ACCORD_"
#: The development PKI's generated passphrase, under ``data_dir/secrets`` (refused in production).
PKI_PASSPHRASE_SECRET = "pki-passphrase"


def _coerce(name: str, raw: Any) -> Any:
    """Turn a TOML or environment value into the field's type."""
    if name == "ice_servers":
        items = json.loads(raw) if isinstance(raw, str) else raw
        return tuple(
            IceServer(
                urls=[item["urls"]] if isinstance(item["urls"], str) else list(item["urls"]),
                username=item.get("username"),
                credential=item.get("credential"),
            )
            for item in items
        )
    if name in ("data_dir", "tls_cert", "tls_key", "key_passphrase_file"):
        return Path(raw) if raw not in (None, "") else None
    if name in ("trusted_proxies", "webhook_allowed_hosts", "identity_provider_certificates", "ice_interfaces",
                "ice_addresses", "ice_refused_networks", "ice_allowed_networks"):
        items = raw.split(",") if isinstance(raw, str) else raw  # a TOML list, or "a, b" in the environment
        values = tuple(str(item).strip() for item in items if str(item).strip())
        return tuple(Path(v) for v in values) if name == "identity_provider_certificates" else values
    if name in ("port", "token_ttl_seconds", "max_event_bytes", "max_upload_bytes", "max_package_bytes",
                "recording_link_seconds",
                "recording_retention_days", "identity_retention_days", "guidance_per_minute",
                "guidance_lawyer_minimum"):
        return int(raw)
    if name in ("reconnect_grace_seconds", "deadline_scan_seconds", "recording_segment_seconds",
                "recording_stamp_seconds", "recording_sweep_seconds", "guidance_lawyer_rate"):
        return float(raw)
    if name == "ice_public_address":
        return raw or None
    if name in ("tls_self_signed", "webhook_allow_http", "ice_allow_loopback"):
        return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
    return raw


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, a TOML file, the environment and explicit overrides.

    ``DATABASE_URL`` and ``REDIS_URL`` are honoured without the prefix, as most hosting
    platforms set them that way.
    """
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Settings)}
    path = config_file or (Path(os.environ["ACCORD_CONFIG"]) if "ACCORD_CONFIG" in os.environ else None)
    if path is None and Path("accord.toml").exists():
        path = Path("accord.toml")
    if path is not None:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        flat = dict(data.get("server", {}))
        flat.update({k: v for k, v in data.items() if not isinstance(v, dict) or k == "ice_servers"})
        for key, raw in flat.items():
            if key not in known:
                raise ValueError(f"{path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw)
    for env_name in ("DATABASE_URL", "REDIS_URL"):
        if env_name in os.environ:
            values[env_name.lower()] = os.environ[env_name]
    for name in known:
        env_name = _ENV_PREFIX + name.upper()
        if env_name in os.environ:
            values[name] = _coerce(name, os.environ[env_name])
    for key, raw in overrides.items():
        if raw is not None:
            values[key] = _coerce(key, raw)
    if values.get("key_passphrase_file") is not None and not values.get("key_passphrase"):
        values["key_passphrase"] = values["key_passphrase_file"].read_text().strip()
    settings = Settings(**values)
    if settings.environment == "production":
        refuse_passphrase_beside_keys(settings)
    parse_networks(settings.trusted_proxies)  # a typo in a proxy address fails here, not per request
    if settings.environment == "production" and settings.identity_gate == "test":
        raise ValueError("identity_gate = 'test' is refused in production")
    policy = IdentityPolicy.parse(settings.identity_policy)  # a typo in the policy fails here, not at signing time
    if "provider" in policy.methods and not (settings.identity_provider_url and settings.identity_provider_certificates):
        raise ValueError("identity_policy names provider: set identity_provider_url and the provider's certificate "
                         "in identity_provider_certificates")
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", settings.identity_provider_name):
        raise ValueError("identity_provider_name: 1-40 of a-z, 0-9, '_' and '-'")
    if settings.identity_retention_days < 1:
        raise ValueError("identity_retention_days must be at least 1")
    outbound = OutboundPolicy(settings.webhook_allow_http, settings.webhook_allowed_hosts)  # a bad entry stops start-up
    if settings.identity_provider_url:
        try:
            outbound.check_url(settings.identity_provider_url)
        except OutboundRefused:  # an internal address not allow-listed stops start-up
            raise ValueError(f"identity_provider_url {settings.identity_provider_url!r} is refused by the outbound "
                             "policy (https only unless webhook_allow_http; internal addresses only when listed in "
                             "webhook_allowed_hosts)") from None
    ice_network(settings)  # so does a bad ICE address or network
    if settings.metrics_token is not None and len(settings.metrics_token) < 16:
        raise ValueError("metrics_token must be at least 16 characters")
    if settings.metrics_bind is not None:
        parse_host_port(settings.metrics_bind)
    return settings


def ice_network(settings: Settings) -> IceNetwork:
    """Where the media server's ICE gathers and which remote candidates it contacts."""
    return IceNetwork(
        interfaces=settings.ice_interfaces,
        addresses=settings.ice_addresses,
        public_address=settings.ice_public_address,
        candidates=CandidatePolicy(
            allow_loopback=settings.ice_allow_loopback,
            refused_networks=parse_ice_networks(settings.ice_refused_networks, "ice_refused_networks"),
            allowed_networks=parse_ice_networks(settings.ice_allowed_networks, "ice_allowed_networks"),
        ),
    )


def parse_host_port(value: str) -> tuple[str, int]:
    """``"127.0.0.1:9464"`` or ``"[::1]:9464"`` -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    return host.strip("[]"), int(port)


def refuse_passphrase_beside_keys(settings: Settings) -> None:
    """In production the PKI passphrase comes from the environment or a file outside the data
    directory: a copy of the data directory (a backup, a stolen disk) must not open the keys."""
    data_dir = settings.data_dir.resolve()
    given = settings.key_passphrase_file
    if given is not None and given.resolve().is_relative_to(data_dir):
        raise ValueError(f"key_passphrase_file {given} lies inside the data directory {settings.data_dir}: "
                         "keep the PKI passphrase outside it (or in ACCORD_KEY_PASSPHRASE)")
    stored = settings.secret_file(PKI_PASSPHRASE_SECRET)
    if stored.exists():
        raise ValueError(f"a PKI passphrase is stored beside the keys ({stored}): in production give it as "
                         "ACCORD_KEY_PASSPHRASE or ACCORD_KEY_PASSPHRASE_FILE outside the data directory, "
                         "then delete that file")


def pki_directory(settings: Settings) -> Path:
    """Where the platform PKI lives (here, not in :mod:`signaling.api.pki`, so that ``accord
    verify`` finds the trusted root without loading the web server)."""
    return settings.data_dir / "pki"


def ensure_secret(settings: Settings, name: str, nbytes: int = 32) -> bytes:
    """Read a random secret from the data directory, creating it (mode 0600) on first use."""
    path = settings.secret_file(name)
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_bytes(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value.hex())
    return value


def pii_key(settings: Settings) -> bytes:
    """The key ID numbers are encrypted with in the database (cases, accounts, agreement texts)."""
    return ensure_secret(settings, "mediation-pii.key")


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **{k: _coerce(k, v) for k, v in changes.items()})
