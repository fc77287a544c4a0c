"""Configuration: defaults < file < environment, and clear errors naming the key."""

from pathlib import Path

import pytest

from config.settings import ConfigError, load


def test_defaults_describe_a_local_instance() -> None:
    settings = load(None, {})
    assert settings.instance.domain == "localhost:8080"
    assert settings.database.url.startswith("sqlite+aiosqlite:///")
    assert settings.dev.insecure is False
    assert settings.base_url == "https://localhost:8080"


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[instance]\ndomain = "donate.example"\ncurrency = "CHF"\n[server]\nport = 9000\n')
    settings = load(path, {"MECENE_SERVER_PORT": "9100", "MECENE_DEV_INSECURE": "yes"})
    assert (settings.instance.domain, settings.instance.currency) == ("donate.example", "CHF")
    assert settings.server.port == 9100
    assert settings.base_url == "http://donate.example"


@pytest.mark.parametrize(("environ", "key"), [
    ({"MECENE_SERVER_PORT": "eighty"}, "server.port"),
    ({"MECENE_SERVER_PORT": "70000"}, "server.port"),
    ({"MECENE_INSTANCE_CURRENCY": "euro"}, "instance.currency"),
    ({"MECENE_INSTANCE_DOMAIN": "https://x.org/"}, "instance.domain"),
    ({"MECENE_DEV_INSECURE": "maybe"}, "dev.insecure"),
    ({"MECENE_DATABASE_URL": "mysql://x"}, "database.url"),
    ({"MECENE_NOPE_THING": "1"}, "MECENE_NOPE_THING"),
])
def test_bad_values_name_their_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(None, environ)
    assert error.value.key == key


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="server.prot: unknown setting"):
        load(path, {})


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path, {})


def test_accepted_currencies_default_to_the_instance_currency_wherever_it_is_set(tmp_path: Path) -> None:
    assert load(None, {}).instance.accepted_currencies == ("EUR",)
    assert load(None, {"MECENE_INSTANCE_CURRENCY": "CHF"}).instance.accepted_currencies == ("CHF",)
    path = tmp_path / "m.toml"
    path.write_text('[instance]\ncurrency = "CHF"\naccepted_currencies = ["EUR", "CHF", "EUR"]\n')
    assert load(path, {}).instance.accepted_currencies == ("EUR", "CHF")
    from_environ = load(path, {"MECENE_INSTANCE_ACCEPTED_CURRENCIES": "CHF, USD"})
    assert from_environ.instance.accepted_currencies == ("CHF", "USD")


@pytest.mark.parametrize(("toml", "message"), [
    ('accepted_currencies = ["EUR", "XYZ", "eur"]', 'codes such as ["EUR", "CHF"] (unknown: XYZ, eur)'),
    ('accepted_currencies = ["CHF"]', "a list that includes instance.currency (EUR)"),
    ('accepted_currencies = "CHF,USD"', "a list that includes instance.currency (EUR)"),
    ('accepted_currencies = ["EUR", 978]', 'expected a list of texts such as ["EUR", "CHF"]'),
    ("accepted_currencies = 978", 'expected a list of texts such as ["EUR", "CHF"]'),
])
def test_bad_accepted_currencies_name_their_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(f"[instance]\n{toml}\n")
    with pytest.raises(ConfigError) as error:
        load(path, {})
    assert error.value.key == "instance.accepted_currencies" and message in str(error.value)
