"""Reading Open Referral UK feeds: a JSON file, or a paged ORUK API over HTTP.

A file may hold one service, a list of services or a page envelope (``{"contents": [...]}``). An API is read
as the profile describes: ``GET {base}/services?page=N&per_page=...`` for the ids, following ``total_pages``,
then ``GET {base}/services/{id}`` for each full record. Requests time out and are retried with a back-off on
network errors, 429 and 5xx answers; anything else is a ``FeedError`` with the reason.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

USER_AGENT = "CarePortal-ORUK-import/1.0"
MAX_PAGES = 10_000
MAX_RETRY_WAIT = 30.0


class FeedError(Exception):
    """The feed (or one of its records) cannot be read; the message says why."""


@dataclass
class FeedItem:
    """One record of a feed, loaded when the importer gets to it (an API record is fetched then)."""

    label: str
    load: Callable[[], Any]


def is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme in ("http", "https")


# --- files -----------------------------------------------------------------------------------------------------


def records_in(payload: Any, where: str) -> list[Any]:
    """The service records in a decoded JSON document. Raises FeedError."""
    if isinstance(payload, dict) and isinstance(payload.get("contents"), list):
        return payload["contents"]
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list):
        return payload
    raise FeedError(f"{where} holds neither an ORUK service, a list of services nor a page of them")


def read_file(path: Path) -> list[FeedItem]:
    """The records of a JSON file as feed items. Raises FeedError."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(f"cannot read {path}: {error}") from None
    return [FeedItem(label=_label(record, position), load=lambda record=record: record)
            for position, record in enumerate(records_in(payload, str(path)), start=1)]


def _label(record: Any, position: int) -> str:
    if isinstance(record, dict) and record.get("id"):
        name = str(record.get("name") or "").strip() or "unnamed"
        return f"{name} (id {record['id']})"
    return f"record {position}"


# --- APIs ------------------------------------------------------------------------------------------------------


class OrukApi:
    """A client for one ORUK API. ``base_url`` is the API root (a trailing ``/services`` is allowed)."""

    def __init__(
        self,
        base_url: str,
        *,
        per_page: int = 50,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not is_url(base_url):
            raise FeedError(f"{base_url!r} is not an http(s) address")
        base = base_url.split("?", 1)[0].rstrip("/")
        self.base_url = base.removesuffix("/services")
        self.per_page, self.timeout, self.retries, self.backoff, self.sleep = per_page, timeout, retries, backoff, sleep

    def get_json(self, path: str, params: dict | None = None) -> Any:
        """GET ``{base}{path}`` as JSON, retrying what may be passing. Raises FeedError."""
        url = self.base_url + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) only)
                    body = response.read()
                break
            except urllib.error.HTTPError as error:
                passing = error.code == 429 or error.code >= 500
                if not passing or attempt == self.retries:
                    raise FeedError(f"{url} answered {error.code} {error.reason}") from None
                self.sleep(self._wait(attempt, error.headers.get("Retry-After")))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt == self.retries:
                    reason = getattr(error, "reason", error)
                    raise FeedError(f"{url} could not be reached after {self.retries + 1} tries: {reason}") from None
                self.sleep(self._wait(attempt, None))
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise FeedError(f"{url} did not answer JSON: {error}") from None

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), MAX_RETRY_WAIT)
        return min(self.backoff * 2**attempt, MAX_RETRY_WAIT)

    def service_ids(self) -> list[tuple[str, str]]:
        """(id, name) of every service, page by page until ``total_pages``. Raises FeedError."""
        found: dict[str, str] = {}
        page, total_pages = 1, 1
        while page <= total_pages and page <= MAX_PAGES:
            payload = self.get_json("/services", {"page": page, "per_page": self.per_page})
            if not isinstance(payload, dict) or not isinstance(payload.get("contents"), list):
                raise FeedError(f"{self.base_url}/services page {page} is not an ORUK page (no contents)")
            total_pages = _whole_number(payload.get("total_pages"), default=page)
            new = 0
            for item in payload["contents"]:
                if isinstance(item, dict) and item.get("id") and str(item["id"]) not in found:
                    found[str(item["id"])] = str(item.get("name") or "").strip()
                    new += 1
            if not payload["contents"] or new == 0 or payload.get("last_page") is True:
                break  # an empty or repeated page: stop rather than loop for ever
            page += 1
        return list(found.items())

    def service(self, service_id: str) -> Any:
        return self.get_json(f"/services/{urllib.parse.quote(service_id, safe='')}")

    def organisation(self, organisation_id: str) -> Any:
        return self.get_json(f"/organizations/{urllib.parse.quote(organisation_id, safe='')}")

    def items(self) -> list[FeedItem]:
        return [
            FeedItem(label=f"{name or 'unnamed'} (id {service_id})",
                     load=lambda service_id=service_id: self.service(service_id))
            for service_id, name in self.service_ids()
        ]


def _whole_number(value: Any, *, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
