from pathlib import Path

import pytest

from signaling.config import ensure_secret, ice_network, load_settings


def test_defaults_are_safe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.host == "127.0.0.1" and s.ice_servers == () and s.redis_url is None
    assert s.effective_database_url.startswith("sqlite+aiosqlite:///")


def test_toml_then_environment_then_overrides(tmp_path, monkeypatch):
    cfg = tmp_path / "accord.toml"
    cfg.write_text('[server]\nport = 9000\nlog_level = "DEBUG"\n\n[[ice_servers]]\nurls = "stun:a:3478"\n'
                   '[[ice_servers]]\nurls = ["turn:b:3478"]\nusername = "u"\ncredential = "c"\n')
    monkeypatch.setenv("ACCORD_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://x/y")
    s = load_settings(cfg, port=9100)
    assert s.port == 9100 and s.log_level == "WARNING" and s.database_url == "postgresql+asyncpg://x/y"
    assert [i.urls for i in s.ice_servers] == [["stun:a:3478"], ["turn:b:3478"]]
    assert s.ice_servers[1].to_browser() == {"urls": ["turn:b:3478"], "username": "u", "credential": "c"}


def test_example_config_loads():
    load_settings(Path(__file__).resolve().parents[2] / "accord.example.toml")


def test_unknown_setting_is_an_error(tmp_path):
    cfg = tmp_path / "accord.toml"
    cfg.write_text("[server]\nprot = 1\n")
    with pytest.raises(ValueError, match="prot"):
        load_settings(cfg)


def test_test_identity_gate_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("ACCORD_ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="identity_gate"):
        load_settings(identity_gate="test")


def test_secret_is_created_once_with_private_mode(tmp_path):
    s = load_settings(data_dir=tmp_path)
    first = ensure_secret(s, "token-secret")
    assert ensure_secret(s, "token-secret") == first and len(first) == 32
    assert (s.secret_file("token-secret").stat().st_mode & 0o777) == 0o600


def test_identity_provider_certificates_from_toml_and_environment(tmp_path, monkeypatch):
    cfg = tmp_path / "accord.toml"
    cfg.write_text('identity_provider_certificates = ["/etc/accord/ctid.pem"]\n')
    assert load_settings(cfg).identity_provider_certificates == (Path("/etc/accord/ctid.pem"),)
    monkeypatch.setenv("ACCORD_IDENTITY_PROVIDER_CERTIFICATES", "a.pem, b.pem")
    assert load_settings(cfg).identity_provider_certificates == (Path("a.pem"), Path("b.pem"))


def test_ice_network_settings_from_toml_and_environment(tmp_path, monkeypatch):
    cfg = tmp_path / "accord.toml"
    cfg.write_text('[server]\nice_interfaces = ["eth0"]\nice_public_address = "203.0.113.7"\n'
                   'ice_refused_networks = ["10.0.0.0/8"]\nice_allowed_networks = ["10.20.0.0/16"]\n')
    monkeypatch.setenv("ACCORD_ICE_ADDRESSES", "127.0.0.1, ::1")
    monkeypatch.setenv("ACCORD_ICE_ALLOW_LOOPBACK", "true")
    network = ice_network(load_settings(cfg))
    assert network.interfaces == ("eth0",) and network.addresses == ("127.0.0.1", "::1")
    assert network.public_address == "203.0.113.7"
    assert network.candidates.allows("127.0.0.1") and network.candidates.allows("10.20.1.1")
    assert not network.candidates.allows("10.1.1.1") and not network.candidates.allows("169.254.169.254")


def test_the_default_ice_network_refuses_loopback_and_metadata(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network = ice_network(load_settings())
    assert not network.restricted and network.public_address is None
    assert not network.candidates.allows("127.0.0.1") and not network.candidates.allows("169.254.169.254")


@pytest.mark.parametrize(("name", "value"), [("ice_refused_networks", "10.0.0.0/40"), ("ice_addresses", "eth0"),
                                             ("ice_public_address", "mediation.example.org")])
def test_a_bad_ice_address_stops_start_up(tmp_path, monkeypatch, name, value):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        load_settings(**{name: value})

def test_the_provider_method_needs_a_provider_whose_address_the_outbound_policy_allows():
    with pytest.raises(ValueError, match="identity_provider_url"):
        load_settings(identity_policy="face+provider")
    anchors = (Path("/etc/accord/ctid.pem"),)
    with pytest.raises(ValueError, match="identity_provider_name"):
        load_settings(identity_policy="face+provider", identity_provider_url="https://realname.example.cn/verify",
                      identity_provider_certificates=anchors, identity_provider_name="CTID!")
    with pytest.raises(ValueError, match="outbound policy"):  # loopback, not allow-listed: refused at start-up
        load_settings(identity_policy="face+provider", identity_provider_url="https://127.0.0.1/verify",
                      identity_provider_certificates=anchors)
    settings = load_settings(identity_policy="face+provider", identity_provider_url="https://127.0.0.1/verify",
                             identity_provider_certificates=anchors, webhook_allowed_hosts=("127.0.0.1",))
    assert settings.identity_provider_url == "https://127.0.0.1/verify"
