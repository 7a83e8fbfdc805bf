"""X-Request-ID: the client's, when it is a sane token, else a fresh random one."""
from __future__ import annotations

import os
import re

_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}").fullmatch


def request_id(given: str | None) -> str:
    """The id to log and echo for a request whose X-Request-ID header is `given` (None: absent)."""
    return given if given and _VALID(given) else os.urandom(16).hex()
