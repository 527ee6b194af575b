"""What a page did wrong while it loaded: console errors, uncaught exceptions, failed or refused requests."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Page, Request, Response


@dataclass
class PageProblems:
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, URL it came from)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def watch(cls, page: Page) -> PageProblems:
        problems = cls()
        page.on("console", problems._on_console)
        page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
        page.on("requestfailed", problems._on_request_failed)
        page.on("response", problems._on_response)
        return problems

    def _on_console(self, message: ConsoleMessage) -> None:
        # Chromium reports a Content-Security-Policy refusal as a console error, so this catches those too.
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.console_errors.append((message.text, where))

    def _on_request_failed(self, request: Request) -> None:
        # ERR_ABORTED is the browser cancelling a request itself, e.g. the previous page's icon still loading when
        # the next page is opened in the same tab: nothing failed. A broken asset shows as an error response, a
        # refused connection (ERR_CONNECTION_REFUSED) or a CSP refusal (a console error).
        if request.failure == "net::ERR_ABORTED":
            return
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.error_responses.append((response.url, response.status))

    def report(self, *, document_url: str, document_status: int) -> list[str]:
        """Every problem except the page's own expected status (a 404 page answers 404, and Chromium logs
        that as a console error on the document itself)."""
        found = [f"console error: {text} (at {where})" for text, where in self.console_errors
                 if not _is_document_status_log(text, where, document_url, document_status)]
        found += [f"uncaught exception: {text}" for text in self.page_errors]
        found += [f"request failed: {text}" for text in self.failed_requests]
        found += [f"HTTP {status}: {url}{_hint(url, status)}" for url, status in self.error_responses
                  if not (url == document_url and status == document_status)]
        return found


def _is_document_status_log(text: str, where: str, document_url: str, status: int) -> bool:
    return (status >= 400 and where == document_url
            and text.startswith(f"Failed to load resource: the server responded with a status of {status}"))


def _hint(url: str, status: int) -> str:
    if status == 404 and "/assets/" in url:
        return " (built assets missing? `make assets` builds static/dist and static/govuk)"
    return ""
