"""docs/configuration.md lists exactly the settings the code knows, with their defaults."""

import re
import tomllib
from pathlib import Path

from config.settings import DEFAULTS_PATH

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def documented() -> dict[str, str]:
    rows = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| `([^`]*)` \|", DOC.read_text(), flags=re.M)
    return dict(rows)


def defaults() -> dict[str, str]:
    with DEFAULTS_PATH.open("rb") as handle:
        raw = tomllib.load(handle)
    return {f"{section}.{key}": str(value).lower() if isinstance(value, bool) else str(value)
            for section, values in raw.items() for key, value in values.items()}


def test_every_setting_is_documented_with_its_default() -> None:
    assert documented() == defaults()
