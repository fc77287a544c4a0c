"""The running instance and what wires federation and settlement: the only package that imports both.

At the top: the instance (`instance`, built by `wiring`), the app, the
database, the server's tables, `Refusal`, and the services that the API, the
pages, the bot and the CLI share. Below: `settling/` (federation meets
settlement), `api/`, `views/` and `web/` (HTTP), `bot/`, `cli/` and `demo/`.
Nothing outside this package imports it; `docs/architecture.md` has the map.
"""
