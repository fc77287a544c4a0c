"""One log line per money event and per refused activity, for operators who read logs.

Each event is a record of the `mecene.events` logger whose message is the
event's name and whose fields ride along in `extra`; `server.logs` prints
them as `key=value` after the message, or as one JSON object per line with
`server.log_format = "json"`.
"""

import logging

log = logging.getLogger("mecene.events")


def event(name: str, **fields: object) -> None:
    log.info(name, extra={"fields": fields})
