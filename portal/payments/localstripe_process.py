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


def _serve(port: int) -> None:  # runs in the child process only
    from aiohttp import web
    from localstripe import resources, server

    # Keep state in memory: the stock command pickles every write to a shared file in /tmp.
    resources.Store.dump_to_disk = lambda self: None
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="localstripe on 127.0.0.1 with in-memory state")
    parser.add_argument("--port", type=int, default=8420)
    _serve(parser.parse_args().port)
