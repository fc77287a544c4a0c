"""How `mecene serve` logs: text for a person at a terminal, or JSON lines for a log collector.

Every record (the access log's too) goes to standard error, one line each;
the events of `server.events` carry their fields, as `key=value` pairs in
text, as members of the object in JSON.
"""

import json
import logging
import sys
from datetime import UTC, datetime


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return line


def json_members(created: float, level: str, logger: str, message: str) -> dict[str, object]:
    """The members every JSON line starts with, the access log's (`server.access_log`) too."""
    return {"time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"), "level": level,
            "logger": logger, "message": message}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = json_members(record.created, record.levelname.lower(), record.name, record.getMessage())
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            document.update(fields)
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure(log_format: str) -> None:
    """Root handler on standard error, INFO and up, in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
