"""CORS for an allow-list of exact origins (NEURONHUB_CORS_ORIGINS); off when the list is empty.

A request whose Origin is on the list gets Access-Control-Allow-Origin with that origin (never `*`)
and the response headers a browser script may read. A preflight (OPTIONS with
Access-Control-Request-Method) from such an origin is answered 204 here, before authentication, with
the methods the path has, the request headers the API uses, and Access-Control-Max-Age. Responses
vary by Origin whenever CORS is on, so caches keep the answers for different origins apart. No
credentials mode: keys travel in the Authorization header, which the browser sends when the script
sets it.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request

from ..config import Config

ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, X-API-Key, X-Request-ID"
EXPOSED_HEADERS = "ETag, Location, Link, Retry-After, WWW-Authenticate, X-Request-ID"


def install(app: Flask, config: Config) -> None:
    origins = config.cors_origin_set
    if not origins:
        return
    max_age = str(config.cors_max_age)

    @app.before_request
    def _preflight() -> Response | None:
        origin = request.headers.get("Origin")
        if request.method != "OPTIONS" or origin not in origins or "Access-Control-Request-Method" not in request.headers:
            return None
        if request.routing_exception is not None:
            return None  # no such path: 404 as usual
        adapter = current_app.url_map.bind_to_environ(request.environ)
        methods = sorted(adapter.allowed_methods(request.path) or [])
        return Response(status=204, headers={
            "Access-Control-Allow-Methods": ", ".join(methods),
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": max_age,
        })

    @app.after_request
    def _allow_origin(response: Response) -> Response:
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                response.vary.update(("Access-Control-Request-Method", "Access-Control-Request-Headers"))
            else:
                response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
