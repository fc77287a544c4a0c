"""`mecene --help` and a mistyped argument answer without importing the server, and a command imports only what it uses.

Each check runs in a fresh interpreter, as `mecene` does, and asks it which
of the heavy modules it loaded: importing the instance takes a second or more,
which every `mecene` process used to pay before printing its help.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from cli_process import ROOT

#: What opening an instance or serving it imports; `--help` needs none of them.
INSTANCE = ("server.wiring", "server.instance", "server.db", "sqlalchemy", "aiohttp", "cryptography", "alembic")
#: What only `mecene serve` needs: the web application, its pages and their templates.
WEB = ("server.app", "server.web.routes", "aiohttp.web", "aiohttp_jinja2", "jinja2")
#: What a command that sends nothing and finds the schema up to date has no use for: HTTP, migrations, IBAN checks.
UNUSED = ("aiohttp", "alembic", "schwifty")

#: `mecene` with every command's help, then with an unknown option after each; both stop before running anything.
EVERY_PARSE = """
import argparse, contextlib, io
from server.cli.main import build_parser, main

def paths(parser, prefix):
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from paths(child, [*prefix, name])

statuses = []
for path in paths(build_parser(), []):
    for argv in ([*path, "--help"], [*path, "--no-such-option"]):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                main(argv)
            except SystemExit as exc:
                statuses.append(exc.code)
print(statuses.count(0), statuses.count(2))
"""


def loaded(code: str, modules: tuple[str, ...], data_dir: Path) -> tuple[str, list[str]]:
    """What `code` printed last, and which of `modules` it left imported, run as a new `mecene` process would be."""
    report = f"import json, sys\nprint(json.dumps([name for name in {modules!r} if name in sys.modules]))"
    environ = {key: value for key, value in os.environ.items() if not key.startswith("MECENE_")}
    environ.update(MECENE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", f"{code}\n{report}"], env=environ, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *printed, imported = done.stdout.strip().splitlines()
    return (printed[-1] if printed else ""), json.loads(imported)


def test_help_and_argument_errors_import_no_instance(tmp_path: Path) -> None:
    printed, imported = loaded(EVERY_PARSE, INSTANCE + WEB, tmp_path)
    helped, refused = map(int, printed.split())
    assert helped == refused > 40
    assert imported == []


def test_config_show_opens_no_instance(tmp_path: Path) -> None:
    printed, imported = loaded('from server.cli.main import main\nassert main(["config", "show"]) == 0',
                               INSTANCE + WEB, tmp_path)
    assert printed == ""
    assert imported == []


def test_a_command_on_the_instance_leaves_the_web_application_alone(tmp_path: Path) -> None:
    code = 'from server.cli.main import main\nassert main(["init"]) == 0\nassert main(["user", "list"]) == 0'
    _, imported = loaded(code, ("server.wiring", *WEB), tmp_path)
    assert imported == ["server.wiring"]


def test_a_command_at_the_newest_schema_loads_neither_migrations_nor_the_http_client(tmp_path: Path) -> None:
    loaded('from server.cli.main import main\nassert main(["init"]) == 0', (), tmp_path)
    _, imported = loaded('from server.cli.main import main\nassert main(["user", "list"]) == 0', UNUSED, tmp_path)
    assert imported == []


def test_listing_top_ups_loads_no_payment_service_sdk(tmp_path: Path) -> None:
    loaded('from server.cli.main import main\nassert main(["init"]) == 0', (), tmp_path)
    _, imported = loaded('from server.cli.main import main\nassert main(["topups", "list"]) == 0',
                         ("stripe", "sepaxml", *UNUSED), tmp_path)
    assert imported == []


def _fastest(argv: list[str], tries: int = 5) -> float:
    """The quickest of a few runs: what the command costs, with the machine's other work mostly left out."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("MECENE_")}
    environ.update(PYTHONPATH=str(ROOT))
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        done = subprocess.run(argv, env=environ, cwd=ROOT, capture_output=True, timeout=60)
        times.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr
    return min(times)


def test_help_answers_within_a_second_and_a_few_interpreter_starts() -> None:
    """Measured against `python -c pass` on the same machine, so a slow machine does not fail it and a slow import does.

    An interpreter starts in 10 to 30 ms; `mecene --help` took 90 ms here (2026-12-03), importing argparse and the
    parsers only. Fifteen starts leave room for a loaded machine and none for importing the server (a second or more).
    """
    interpreter = _fastest([sys.executable, "-c", "pass"])
    helped = _fastest([sys.executable, "-m", "server.cli", "--help"])
    assert helped < 1.0 and helped / interpreter < 15, (helped, interpreter)
