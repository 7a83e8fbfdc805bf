"""Answers gunicorn gives before the application sees the request are documented too."""
import socket

import pytest

from .openapi_contract import Contract, Response

CONTRACT = Contract.from_file()


def send_raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "path, request_line_and_headers, status",
    [
        ("/v1/neurons/" + "a" * 4100, b"GET /v1/neurons/" + b"a" * 4100 + b" HTTP/1.1\r\nHost: x\r\n", 414),
        ("/v1/neurons", b"GET /v1/neurons?cursor=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n", 414),
        ("/v1/networks/xor", b"PUT /v1/networks/xor HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n", 431),
        ("/readyz", b"GET /readyz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(120)), 431),
        ("/v1/neurons", b"GET /v1/neurons HTTP/1.1 extra\r\nHost: x\r\n", 400),
    ],
    ids=["long-path", "long-query", "huge-header", "many-headers", "bad-request-line"],
)
def test_http_server_errors_are_documented(live_server, path, request_line_and_headers, status):
    got, headers, body = send_raw(live_server.port, request_line_and_headers + b"\r\n")
    assert got == status and headers["Content-Type"] == "text/html"
    method = request_line_and_headers.split(b" ", 1)[0].decode()
    CONTRACT.check(Response(method, path, got, headers, body))
