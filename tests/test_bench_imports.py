"""Every module of `make bench` imports: the bench runs rarely, so a module renamed elsewhere must fail here first.

(`bench/inbox_servers.py` still imported `server.errors` for weeks after it became `server.http_errors`.)
"""

import importlib
import pkgutil

import bench


def test_every_bench_module_imports() -> None:
    names = [found.name for found in pkgutil.iter_modules(bench.__path__, "bench.")]
    assert len(names) > 10
    for name in names:
        importlib.import_module(name)
