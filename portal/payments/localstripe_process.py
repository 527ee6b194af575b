"""Run localstripe (a local Stripe emulator, GPL) as a separate process bound to 127.0.0.1.

localstripe is never imported into the portal: ``start`` runs this module with ``python -m`` in a child process,
where ``_serve`` loads localstripe, turns off its pickling to /tmp (state stays in memory) and binds loopback only.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base_url}/js.stripe.com/v3/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"localstripe did not answer at {base_url} within {timeout:.0f} s")


def start(port: int | None = None, *, quiet: bool = True) -> tuple[subprocess.Popen, str]:
    """Start localstripe on 127.0.0.1 and wait until it answers; returns the process and its base URL."""
    port = port or free_port()
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.payments.localstripe_process", "--port", str(port)],
        stdout=output,
        stderr=output,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url)
    except RuntimeError:
        process.kill()
        raise
    return process, base_url


def register_webhook(base_url: str, *, url: str, secret: str, events: list[str] | None = None,
                     webhook_id: str = "care-portal") -> None:
    """Ask localstripe to sign and send its events to ``url`` (``POST /_config/webhooks/{id}``)."""
    fields = [("url", url), ("secret", secret)] + [("events[]", event) for event in events or []]
    request = urllib.request.Request(f"{base_url}/_config/webhooks/{webhook_id}",
                                     data=urllib.parse.urlencode(fields).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def _serve(port: int) -> None:  # runs in the child process only
    from aiohttp import web
    from localstripe import resources, server

    # Keep state in memory: the stock command pickles every write to a shared file in /tmp.
    resources.Store.dump_to_disk = lambda self: None
    _list_payment_intents_like_stripe(resources)
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=None, print=None)


def _list_payment_intents_like_stripe(resources) -> None:
    """Stripe lists a customer's PaymentIntents (``GET /v1/payment_intents?customer=``), newest first; localstripe
    refuses the filter. The gateway finds an earlier intent for an idempotency key that way (localstripe ignores
    Idempotency-Key headers), so teach it the documented behaviour."""
    from localstripe.errors import UserError

    payment_intent = resources.PaymentIntent
    list_all = resources.StripeObject._api_list_all.__func__

    @classmethod
    def _api_list_all(cls, url, customer=None, limit=None, starting_after=None, **kwargs):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        found = list_all(cls, url, limit=limit, starting_after=starting_after)  # a List: it pages by itself
        newest_first = sorted(found._list, key=lambda intent: intent.created, reverse=True)
        found._list = [intent for intent in newest_first if customer is None or intent.customer == customer]
        return found

    payment_intent._api_list_all = _api_list_all


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="localstripe on 127.0.0.1 with in-memory state")
    parser.add_argument("--port", type=int, default=8420)
    _serve(parser.parse_args().port)
