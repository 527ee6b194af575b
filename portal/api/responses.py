"""JSON responses for the API: the ORUK page envelope, pagination links, caching validators, CORS and errors.

Every answer carries an ETag (a hash of its body) and, when it shows dated records, a Last-Modified of the
newest of them; a client repeating a request with If-None-Match or If-Modified-Since gets a 304 without
the body. Answers are public (no account, no cookie changes them) and may be cached for a minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from flask import Response, current_app, request, url_for

from portal.api.queries import Found

CACHE_SECONDS = 60
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Link, Retry-After, X-RateLimit-Limit, "
                                     "X-RateLimit-Remaining, X-RateLimit-Reset",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, Cache-Control, If-Modified-Since, If-None-Match",
    "Access-Control-Max-Age": "86400",
}


def json_response(payload: dict, *, status: int = 200, last_modified: datetime | None = None,
                  links: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    response = current_app.response_class(body, status=status, mimetype="application/json")
    if status == 200:
        response.add_etag()
        if last_modified is not None:
            response.last_modified = last_modified.replace(microsecond=0)
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_SECONDS
        if links:
            response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
        response.make_conditional(request)
    else:
        response.cache_control.no_store = True
    return response


def error_response(status: int, error: str, detail: str, **extra) -> Response:
    return json_response({"error": error, "detail": detail, **extra}, status=status)


def _page_url(number: int) -> str:
    arguments = request.args.to_dict(flat=False)
    arguments["page"] = [str(number)]
    return url_for(request.endpoint, **(request.view_args or {}), _external=True) + "?" + urlencode(
        arguments, doseq=True)


def page_links(found: Found) -> dict[str, str]:
    """RFC 8288 links to the first, previous, next and last pages, keeping every other parameter."""
    links = {"first": _page_url(1)}
    if found.page > 1:
        links["prev"] = _page_url(min(found.page - 1, found.pages))
    if found.page < found.pages:
        links["next"] = _page_url(found.page + 1)
    links["last"] = _page_url(found.pages)
    return links


def page_response(found: Found, item: Callable, last_modified: datetime | None = None) -> Response:
    """The ORUK ``Page`` envelope with ``contents`` mapped by ``item``."""
    contents = [item(thing) for thing in found.items]
    payload = {
        "total_items": found.total,
        "total_pages": found.pages,
        "page_number": found.page,
        "size": len(contents),
        "first_page": found.page == 1,
        "last_page": found.page >= found.pages,
        "empty": not contents,
        "contents": contents,
    }
    return json_response(payload, last_modified=last_modified, links=page_links(found))


def add_cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    if request.method == "OPTIONS":
        response.headers.update(PREFLIGHT_HEADERS)
    return response
