"""Every `mecene` command the README shows is one the command line accepts, with those arguments."""

import re
import shlex
from pathlib import Path

import pytest

from server.cli.main import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
COMMAND = re.compile(r"^\.venv/bin/mecene (?P<args>.+?)(?:\s+#.*)?$", re.MULTILINE)
#: `[--dead]`: an option shown as optional; the command without it must parse.
OPTIONAL = re.compile(r"\s*\[[^\]]*\]")


def _shown() -> list[str]:
    return [match["args"] for match in COMMAND.finditer(README.read_text())]


def test_the_readme_shows_commands() -> None:
    assert len(_shown()) >= 10


@pytest.mark.parametrize("args", _shown(), ids=_shown())
def test_a_command_the_readme_shows_parses(args: str) -> None:
    parsed = build_parser().parse_args(shlex.split(OPTIONAL.sub("", args)))
    assert callable(parsed.run)
