"""A validation pattern must cover the whole value: `$` also matches before a final newline, so `^…$` with
`match` let `bob\\n` pass for a username (a second account beside `bob`: tests/server/test_cli.py) and
`example.org\\n` for a domain.
"""

import re
from pathlib import Path

import pytest

from config.settings import ConfigError, load
from federation.flattr_vocab import period_label
from federation.intents import IntentError, parse_home

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "config", "federation", "server", "settlement", "bench")
DOLLAR_ANCHORED = re.compile(r"""re\.(?:compile|match|search)\(\s*r?(["'])[^"']*\$\1""")


@pytest.mark.parametrize(("environ", "key"), [
    ({"MECENE_INSTANCE_DOMAIN": "example.org\n"}, "instance.domain"),
    ({"MECENE_INSTANCE_BOT_USERNAME": "flattr\n"}, "instance.bot_username"),
])
def test_configuration_refuses_a_trailing_newline(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(None, environ)
    assert error.value.key == key


@pytest.mark.parametrize("value", ["2026-11\n", "2026-11-02\n", "٢٠٢٦-١١"])
def test_a_received_flattr_period_is_the_whole_value(value: str) -> None:
    assert period_label({"period": value}) is None


@pytest.mark.parametrize("typed", ["https://home.example:8080\n/", "alice@home.example:٨٠"])
def test_a_home_address_is_the_whole_value(typed: str) -> None:
    with pytest.raises(IntentError):
        parse_home(typed)


def test_no_validation_pattern_ends_in_a_dollar() -> None:
    """Validation uses `fullmatch` (or `\\Z`): a pattern ending in `$` is the fault above waiting to recur."""
    found = [f"{path.relative_to(ROOT)}:{number}" for package in PACKAGES for path in (ROOT / package).rglob("*.py")
             for number, line in enumerate(path.read_text().splitlines(), 1) if DOLLAR_ANCHORED.search(line)]
    assert found == []
