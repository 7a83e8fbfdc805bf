"""gunicorn's access log as one JSON object per line (gunicorn.conf.py: logger_class).

Imported by the gunicorn master, so it imports nothing of the application (no Flask, numpy or
database driver). Fields: time (UTC, ISO 8601), request_id (the X-Request-ID the application
answered with), method, path, query, status, bytes, duration_ms, remote (the peer address),
forwarded_for (X-Forwarded-For as received), user_agent, pid (the worker). Request headers other
than User-Agent and X-Forwarded-For are never written: API keys stay out of the log.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from gunicorn import glogging


class JsonAccessLogger(glogging.Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        try:
            record = access_record(self.atoms(resp, req, environ, request_time))
            self.access_log.info(json.dumps(record, separators=(",", ":")))
        except Exception:
            self.exception("could not write the access log line")


def access_record(atoms: dict[str, Any]) -> dict[str, Any]:
    """The JSON record for gunicorn's log atoms (Logger.atoms: headers as "{name}i" / "{name}o")."""
    def value(key: str) -> str | None:
        text = atoms.get(key)
        return None if text in ("-", "", None) else str(text)

    status = value("s")
    size = value("B")
    duration_us = value("D")
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request_id": value("{x-request-id}o"),
        "method": value("m"),
        "path": value("U"),
        "query": value("q"),
        "status": int(status) if status and status.isdigit() else status,
        "bytes": int(size) if size and size.isdigit() else 0,
        "duration_ms": round(int(duration_us) / 1000, 3) if duration_us and duration_us.isdigit() else None,
        "remote": value("h"),
        "forwarded_for": value("{x-forwarded-for}i"),
        "user_agent": value("a"),
        "pid": int(value("p").strip("<>")) if value("p") else None,
    }
