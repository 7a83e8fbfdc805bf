"""What neurons and networks share: list, iterate, get, put (with preconditions) and delete by name."""
from __future__ import annotations

from typing import Any, Callable, Generic, Iterator, Protocol, TypeVar

from . import _decode
from ._http import Transport
from ._models import Page
from ._operations import Operation

Resource = TypeVar("Resource")
Summary = TypeVar("Summary")
Definition = TypeVar("Definition", bound="JSONDefinition", contravariant=True)


class JSONDefinition(Protocol):
    def to_json(self) -> dict[str, Any]: ...


def precondition_headers(if_match: int | str | None, create_only: bool) -> dict[str, str]:
    """If-Match from a revision (3 -> '"3"'), an ETag ('"3"') or '*'; If-None-Match: * for create_only."""
    headers = {}
    if if_match is not None:
        if isinstance(if_match, bool):
            raise TypeError("if_match: expected a revision, an ETag or '*', got a bool")
        headers["If-Match"] = f'"{if_match}"' if isinstance(if_match, int) or not if_match.startswith(('"', "*", "W/")) else if_match
    if create_only:
        headers["If-None-Match"] = "*"
    return headers


class Definitions(Generic[Summary, Resource, Definition]):
    """Named definitions of one kind. Subclasses give the operations and the decoders."""

    _list: Operation
    _get: Operation
    _put: Operation
    _delete: Operation
    _decode_summary: Callable[[dict[str, Any]], Summary]
    _decode_resource: Callable[[dict[str, Any]], Resource]

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page[Summary]:
        """One page, sorted by name. Pass the page's `next_cursor` as `cursor` for the next one."""
        response = self._transport.send(self._list, query={"limit": limit, "cursor": cursor})
        return _decode.decoded(response, _decode.page(type(self)._decode_summary))

    def iter(self, *, page_size: int | None = None) -> Iterator[Summary]:
        """Every item, fetching page after page as you go."""
        cursor: str | None = None
        while True:
            page = self.list(limit=page_size, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, name: str) -> Resource:
        response = self._transport.send(self._get, path={"name": name})
        return _decode.decoded(response, type(self)._decode_resource)

    def put(self, name: str, definition: Definition, *, if_match: int | str | None = None, create_only: bool = False) -> Resource:
        """Create or replace; returns what was stored, with its new revision.

        if_match: only replace this revision (an int, or an ETag such as `neuron.etag`), or '*' for
        "only if it exists". create_only: never replace an existing one. Either raises
        PreconditionFailedError when it does not hold.
        """
        response = self._transport.send(self._put, path={"name": name}, body=definition.to_json(),
                                        headers=precondition_headers(if_match, create_only))
        return _decode.decoded(response, type(self)._decode_resource)

    def delete(self, name: str, *, if_match: int | str | None = None) -> None:
        self._transport.send(self._delete, path={"name": name}, headers=precondition_headers(if_match, False))
