"""What an operator reads: an access log and event lines (text or JSON), and Prometheus metrics off the public port."""

import asyncio
import json
import logging
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cli_process import MECENE, ROOT, cli_environment, mecene
from federation_harness import Databases, Federation, free_port
from plain_peer import AS_CONTEXT, PlainPeer
from server import logs
from server.access_log import LocalTime
from test_cli import _wait_for_health


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        started.add_account("pat")
        yield started


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def like(peer: PlainPeer, name: str) -> dict[str, Any]:
    actor = peer.actor_uri("pat")
    return {"@context": AS_CONTEXT, "id": f"{actor}/likes/{name}", "type": "Like", "actor": actor,
            "object": f"{actor}/statuses/1"}


async def test_metrics_are_served_on_their_own_loopback_port_only(federation: Federation, peer: PlainPeer,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    node = await federation.start("a", MECENE_SERVER_METRICS_PORT=str(port))
    inbox = f"{node.base_url}/inbox"
    assert await peer.deliver("pat", inbox, like(peer, "1")) == 202
    with caplog.at_level(logging.INFO, logger="mecene.events"):
        async with aiohttp.ClientSession() as http, http.post(inbox, data=b"{not json", headers={
                "Content-Type": "application/activity+json"}) as response:
            assert response.status == 400
    status, text = await get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    assert 'mecene_inbox_activities_total{outcome="stored",reason=""} 1.0' in text
    assert 'mecene_inbox_activities_total{outcome="refused",reason="invalid_json"} 1.0' in text
    assert 'mecene_deliveries{state="dead"} 0.0' in text and "mecene_payouts_in_flight" in text
    assert "mecene_period_close_seconds_bucket" in text
    assert (await get(f"{node.base_url}/metrics"))[0] == 404
    [refusal] = [record for record in caplog.records if record.getMessage() == "inbox_refused"]
    assert refusal.fields["reason"] == "invalid_json" and refusal.fields["path"] == "/inbox"


async def test_no_metrics_unless_asked(federation: Federation) -> None:
    node = await federation.start("a")
    assert node.live.settings.server.metrics_port == 0
    assert (await get(f"{node.base_url}/metrics"))[0] == 404


def test_an_event_is_one_json_object_with_its_fields() -> None:
    record = logging.LogRecord("mecene.events", logging.INFO, __file__, 1, "payout_sent", None, None)
    record.fields = {"payout_id": "https://a.example/payouts/2026-10/b", "total": 250}
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    document = json.loads(line)
    assert (document["message"], document["payout_id"], document["total"], document["level"]) == (
        "payout_sent", "https://a.example/payouts/2026-10/b", 250, "info")
    assert logs.TextFormatter().format(record).endswith("payout_sent payout_id=https://a.example/payouts/2026-10/b "
                                                         "total=250")


async def test_serve_writes_an_access_log_as_json_lines(tmp_path: Path) -> None:
    databases = Databases(tmp_path)
    env = await cli_environment(databases, tmp_path / "data")
    env["MECENE_SERVER_LOG_FORMAT"] = "json"
    try:
        assert mecene(env, "init").returncode == 0
        port = free_port()
        process = subprocess.Popen([*MECENE, "serve", "--port", str(port)], env=env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            await _wait_for_health(port)
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.to_thread(process.communicate, timeout=20)
        lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
        access = [line for line in lines if line["logger"] == "aiohttp.access"]
        assert access and '"GET /health HTTP/1.1" 200' in access[-1]["message"]
    finally:
        await databases.drop_all()


async def test_serve_writes_each_access_line_within_a_moment_while_it_runs(tmp_path: Path) -> None:
    databases = Databases(tmp_path)
    env = await cli_environment(databases, tmp_path / "data")
    try:
        assert mecene(env, "init").returncode == 0
        port = free_port()
        process = subprocess.Popen([*MECENE, "serve", "--port", str(port)], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stderr or []], daemon=True).start()
        try:
            await _wait_for_health(port)
            async with aiohttp.ClientSession(headers={"User-Agent": "probe/1"}) as http:
                async with http.get(f"http://127.0.0.1:{port}/health?probe=1") as response:
                    assert response.status == 200
            line = await asyncio.to_thread(_line_with, lines, "probe=1", 5.0)
            assert re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO aiohttp\.access: 127\.0\.0\.1 '
                                r'"GET /health\?probe=1 HTTP/1\.1" 200 \d+ \d+\.\d{6} "probe/1"\n', line), line
        finally:
            process.send_signal(signal.SIGINT)
            assert await asyncio.to_thread(process.wait, 20) == 0
    finally:
        await databases.drop_all()


def _line_with(lines: "queue.Queue[str]", text: str, seconds: float) -> str:
    """The first line holding `text` that the server writes within `seconds`, while it still runs."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        line = lines.get(timeout=left)
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} within {seconds} s")


def test_the_access_logs_time_reads_as_loggings_asctime_and_follows_each_new_second() -> None:
    """Formatted once a second: a later second must not reuse the earlier one's text."""
    local_time, logging_time = LocalTime(), logging.Formatter()
    for now in (1_764_756_000.123, 1_764_756_000.999, 1_764_756_001.0405, 1_764_842_400.5):
        record = logging.makeLogRecord({"created": now, "msecs": int((now - int(now)) * 1000)})
        assert local_time.stamp(now) == logging_time.formatTime(record)
