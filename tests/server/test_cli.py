"""The `mecene` command as an operator runs it: real files, exit codes; its own process for `init` and `serve`."""

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from cli_process import MECENE, ROOT, cli_environment, initialise, initialised_data, mecene, run_here
from federation_harness import Databases, free_port


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    databases = Databases(tmp_path)
    yield await cli_environment(databases, tmp_path / "data")
    await databases.drop_all()


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `mecene init` for the module's tests that start from an initialised instance: each copies its folder."""
    return initialised_data(tmp_path_factory.mktemp("initialised") / "data")


@pytest.fixture
def initialised_instance(env: dict[str, str], initialised: Path) -> None:
    """`env`'s data folder holds an instance `mecene init` made, its own."""
    initialise(env, initialised)


async def test_init_then_users_then_config(env: dict[str, str], tmp_path: Path) -> None:
    done = mecene(env, "init", "--domain", "localhost:8080")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "mecene.toml").exists()
    again = await run_here(env, "init")
    assert again.returncode == 1 and "already" in again.stderr
    assert (await run_here(env, "user", "add", "alice")).returncode == 0
    taken = await run_here(env, "user", "add", "alice")
    assert taken.returncode == 1 and "taken" in taken.stderr
    bad = await run_here(env, "user", "add", "Not Valid")
    assert bad.returncode == 1 and "lower-case" in bad.stderr
    listed = await run_here(env, "user", "list")
    assert listed.returncode == 0 and "alice\thttp://localhost:8080/users/alice" in listed.stdout
    shown = await run_here(env, "config", "show")
    assert 'domain = "localhost:8080"' in shown.stdout and "insecure = true" in shown.stdout


async def test_bad_configuration_value_exits_2_naming_the_key(env: dict[str, str]) -> None:
    done = await run_here({**env, "MECENE_SERVER_PORT": "eighty"}, "config", "show")
    assert done.returncode == 2
    assert "server.port" in done.stderr


@pytest.mark.usefixtures("initialised_instance")
async def test_deliveries_lists_an_empty_queue_and_refuses_unknown_retry(env: dict[str, str]) -> None:
    listed = await run_here(env, "deliveries")
    assert listed.returncode == 0 and listed.stdout.startswith("id\tstate")
    retry = await run_here(env, "deliveries", "--retry", "42")
    assert retry.returncode == 1 and "no dead letter" in retry.stderr


@pytest.mark.usefixtures("initialised_instance")
@pytest.mark.parametrize("name", ["bob\n", "bob\r\n"])
async def test_a_username_with_a_line_break_is_refused_not_a_second_account(env: dict[str, str], name: str) -> None:
    assert (await run_here(env, "user", "add", "bob")).returncode == 0
    bad = await run_here(env, "user", "add", name)
    assert bad.returncode == 1 and "lower-case" in bad.stderr
    assert (await run_here(env, "user", "list")).stdout.count("\thttp://") == 1


@pytest.mark.usefixtures("initialised_instance")
@pytest.mark.parametrize("label", ["x" * 101, "caf\udce9"])
async def test_a_token_label_the_database_cannot_store_is_refused(env: dict[str, str], label: str) -> None:
    assert (await run_here(env, "user", "add", "alice")).returncode == 0
    refused = await run_here(env, "token", "create", "alice", "--label", label)
    assert refused.returncode == 1 and "label" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.usefixtures("initialised_instance")
@pytest.mark.parametrize("retry_id", [str(2**31), str(2**63)])
async def test_retrying_an_id_no_row_can_have_says_there_is_none(env: dict[str, str], retry_id: str) -> None:
    retry = await run_here(env, "deliveries", "--retry", retry_id)
    assert retry.returncode == 1 and "no dead letter" in retry.stderr


@pytest.mark.usefixtures("initialised_instance")
async def test_serve_answers_health_and_stops_cleanly(env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen([*MECENE, "serve"], env={**env, "MECENE_SERVER_PORT": str(port)}, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = await _wait_for_health(port)
        assert body == {"status": "ok", "domain": f"localhost:{port}"}
        taken = await asyncio.to_thread(mecene, env, "serve", "--port", str(port))
        assert taken.returncode == 1 and f"port {port} on 127.0.0.1 is in use" in taken.stderr
        assert "Traceback" not in taken.stderr and "serving" not in taken.stdout
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0, process.stderr.read() if process.stderr else ""


async def _wait_for_health(port: int) -> dict:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/health") as response:
                    return await response.json()
            except aiohttp.ClientConnectionError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


@pytest.mark.usefixtures("initialised_instance")
async def test_money_commands_credit_budget_offer_and_flattr(env: dict[str, str]) -> None:
    for name in ("alice", "bob"):
        assert (await run_here(env, "user", "add", name)).returncode == 0
    token = await run_here(env, "token", "create", "alice")
    assert token.returncode == 0 and "mecene_" in token.stdout
    credited = await run_here(env, "wallet", "topup", "alice", "10.00", "--reference", "bank-7")
    assert credited.returncode == 0 and "Credited 10.00 EUR" in credited.stdout
    repeated = await run_here(env, "wallet", "topup", "alice", "10.00", "--reference", "bank-7")
    assert repeated.returncode == 0 and "nothing changed" in repeated.stdout
    comma = await run_here(env, "wallet", "topup", "alice", "5,00")
    assert comma.returncode == 1 and '"5.00"' in comma.stderr
    assert (await run_here(env, "budget", "set", "alice", "-1")).returncode == 1
    assert (await run_here(env, "budget", "set", "alice", "3")).returncode == 0
    thing = await run_here(env, "thing", "add", "bob", "--text", "Please flattr")
    assert thing.returncode == 0, thing.stderr
    url = thing.stdout.split()[2]
    assert (await run_here(env, "thing", "add", "bob", "--url", "https://bob.example")).returncode == 1
    assert "Flattred" in (await run_here(env, "flattr", "alice", url)).stdout
    assert "nothing changed" in (await run_here(env, "flattr", "alice", url)).stdout
    own = await run_here(env, "flattr", "bob", url)
    assert own.returncode == 1 and "your own" in own.stderr
    shown = (await run_here(env, "wallet", "show", "alice")).stdout
    assert "wallet\t10.00 EUR" in shown and "budget\t3.00 EUR" in shown and "3.00 now" in shown
    code = await run_here(env, "link", "code", "alice")
    assert code.returncode == 0 and "direct message to @flattr@localhost:8080" in code.stdout
    assert (await run_here(env, "link", "code", "nobody")).returncode == 1


async def test_init_names_a_local_instance_by_the_port_it_will_serve_on(env: dict[str, str], tmp_path: Path) -> None:
    done = await run_here({**env, "MECENE_SERVER_PORT": "9300"}, "init")
    assert done.returncode == 0, done.stderr
    assert 'domain = "localhost:9300"' in (tmp_path / "data" / "mecene.toml").read_text()
    assert "Initialised http://localhost:9300" in done.stdout and "mecene user add NAME --admin" in done.stdout
