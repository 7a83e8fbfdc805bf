"""API keys: admin keys may write, read keys may read and evaluate.

Keys come from NEURONHUB_ADMIN_KEYS / NEURONHUB_READ_KEYS (comma-separated) and NEURONHUB_KEYS_FILE,
a file of lines `admin KEY` or `read KEY` (`#` starts a comment; KEY may be written `sha256:HEX`,
the hex SHA-256 of the key, so the file need not hold the key itself). The file is checked on every
request that needs a key and re-read when it changed (mtime, size or inode), so keys rotate by
editing or replacing the file, without a rebuild or restart; if it cannot be read then, the keys
read last stay in force and the error is logged.

When any key is configured: PUT, DELETE, PATCH and POST need an admin key, except POSTs marked
`@evaluation` (they only read); GET and HEAD, and the evaluation POSTs, need a read or admin key
when NEURONHUB_REQUIRE_READ_KEY is on and nothing otherwise. A presented key must be valid even
where none is needed. Probes (/v2/health/* too), metrics, the OpenAPI document, the explorer page (GET / and /explorer/*) and CORS
preflights never need a key.
With no key configured the service is open, and says so in the log at start-up.

Keys are sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`. Only SHA-256 digests are kept
in memory and compared, each with hmac.compare_digest and always against every configured key. A
key is never logged; `g.principal` ("key:" + 12 hex digits of its digest) names it for the rate
limiter.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from dataclasses import dataclass
from typing import Callable, TypeVar

from flask import Flask, current_app, g, request

from ..config import Config, split_list
from .problems import Problem

log = logging.getLogger("neuronhub")

ADMIN, READ = "admin", "read"
REALM = 'Bearer realm="neuronhub"'
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.yaml", "/openapi.json", "/", "/v2/health/live", "/v2/health/ready"})
OPEN_PREFIXES = ("/explorer/",)  # the explorer page's files: the page asks for a key itself when reads need one
_READ_METHODS = frozenset({"GET", "HEAD"})
_EXTENSION = "neuronhub.auth"

F = TypeVar("F", bound=Callable)


def evaluation(view: F) -> F:
    """Mark a POST view as read-only (it evaluates, it changes nothing): a read key is enough."""
    view.neuronhub_read_only = True  # type: ignore[attr-defined]
    return view


def is_open_path(path: str) -> bool:
    """Probes, metrics, the OpenAPI document and the explorer page with its files: never need a key."""
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class Keys:
    entries: tuple[tuple[bytes, str], ...]  # (sha256 digest, role)

    def role_of(self, presented: str) -> str | None:
        wanted = digest(presented)
        role = None
        for known, known_role in self.entries:  # no early exit: the time does not depend on which key matched
            if hmac.compare_digest(wanted, known) and role != ADMIN:
                role = known_role
        return role


def parse_key(text: str) -> bytes:
    text = text.strip()
    if text.lower().startswith("sha256:"):
        hex_digest = text[7:]
        try:
            value = bytes.fromhex(hex_digest)
        except ValueError:
            value = b""
        if len(value) != 32:
            raise ValueError("a sha256: key must be followed by 64 hex digits")
        return value
    if not text or any(c.isspace() for c in text):
        raise ValueError("a key must be non-empty and contain no whitespace")
    return digest(text)


def parse_keys_file(text: str, path: str) -> list[tuple[bytes, str]]:
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0].lower() not in (ADMIN, READ):
            raise ValueError(f"{path}, line {number}: expected `admin KEY` or `read KEY`")
        try:
            entries.append((parse_key(parts[1]), parts[0].lower()))
        except ValueError as exc:
            raise ValueError(f"{path}, line {number}: {exc}") from None
    return entries


class KeyRing:
    """The keys in force: the ones from the environment plus the keys file, re-read when it changes."""

    def __init__(self, config: Config) -> None:
        self._fixed = [(parse_key(k), ADMIN) for k in split_list(config.admin_keys)]
        self._fixed += [(parse_key(k), READ) for k in split_list(config.read_keys)]
        self._path = config.keys_file.strip()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._keys = Keys(tuple(self._fixed))
        if self._path:
            self._reload(strict=True)

    def current(self) -> Keys:
        if self._path:
            try:
                stamp = _stamp(self._path)
            except OSError as exc:
                if self._stamp is not None:
                    log.error("cannot read NEURONHUB_KEYS_FILE (%s); the keys read last stay in force", exc.strerror)
                    self._stamp = None
                return self._keys
            if stamp != self._stamp:
                self._reload(strict=False)
        return self._keys

    def _reload(self, strict: bool) -> None:
        with self._lock:
            try:
                stamp = _stamp(self._path)
                with open(self._path, encoding="utf-8") as handle:
                    entries = parse_keys_file(handle.read(), self._path)
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                if strict:
                    raise ValueError(f"NEURONHUB_KEYS_FILE: cannot use {self._path}: {exc}") from None
                log.error("NEURONHUB_KEYS_FILE could not be re-read (%s); the keys read last stay in force", exc)
                return
            self._keys = Keys(tuple(self._fixed + entries))
            self._stamp = stamp
            if not strict:
                log.info("NEURONHUB_KEYS_FILE changed: %d keys in force", len(self._keys.entries))


def _stamp(path: str) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_mtime_ns, status.st_size, status.st_ino


def presented_key() -> str | None:
    """The key the request carries, "" for a malformed Authorization header, None for none."""
    return key_from_headers(request.headers.get("Authorization"), request.headers.get("X-API-Key"))


def key_from_headers(header: str | None, key: str | None) -> str | None:
    """presented_key from the Authorization and X-API-Key header values (None: header absent)."""
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else ""
    return key.strip() if key is not None else None


def principal(key: str) -> str:
    """How logs and the rate limiter name a key holder, without the key."""
    return "key:" + digest(key).hex()[:12]


def key_ring(app: Flask) -> KeyRing | None:
    """The app's keys in force, None when the service is open."""
    return app.extensions.get(_EXTENSION)


def _needed_role(config: Config) -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method in _READ_METHODS or getattr(view, "neuronhub_read_only", False):
        return READ if config.require_read_key else None
    return ADMIN


def _check(config: Config, ring: KeyRing) -> None:
    if request.method == "OPTIONS" or is_open_path(request.path) or request.routing_exception is not None:
        return  # preflights, probes, the document; unknown paths and methods answer 404/405 as usual
    needed = _needed_role(config)
    key = presented_key()
    if key is None:
        if needed is None:
            return
        raise Problem(
            401, "unauthorized", "Unauthorized",
            "this request needs an API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            headers={"WWW-Authenticate": REALM},
        )
    role = ring.current().role_of(key) if key else None
    if role is None:
        raise Problem(
            401, "unauthorized", "Unauthorized", "the API key is not valid (or the Authorization header is not `Bearer <key>`)",
            headers={"WWW-Authenticate": REALM + ', error="invalid_token"'},
        )
    g.principal = principal(key)
    if needed == ADMIN and role != ADMIN:
        raise Problem(
            403, "forbidden", "Forbidden", f"this key may only read and evaluate; {request.method} here needs an admin key",
            headers={"WWW-Authenticate": REALM + ', error="insufficient_scope"'},
        )


def install(app: Flask, config: Config) -> None:
    if not config.auth_enabled:
        log.warning(
            "no API keys are configured (NEURONHUB_ADMIN_KEYS, NEURONHUB_READ_KEYS, NEURONHUB_KEYS_FILE): "
            "the service is OPEN, anyone who can reach it may create, change and delete definitions"
        )
        return
    ring = KeyRing(config)
    app.extensions[_EXTENSION] = ring
    if not ring.current().entries:
        log.warning("API keys are on but none is configured yet: every write is refused until NEURONHUB_KEYS_FILE lists one")

    @app.before_request
    def _authenticate() -> None:
        _check(config, ring)
