"""The portal served for real on 127.0.0.1, in a daemon thread of the test process."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from portal import create_app
from portal.extensions import db
from tests.browser.borough import Borough, make_borough


class _ErrorLog(logging.Handler):
    """Keeps the server's logged errors (with tracebacks) so a failing page test can say why it got a 500."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.entries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(self.format(record))


# Our app logs unexpected exceptions on "portal"; werkzeug logs what escapes even the error handlers.
_LOGGERS = ("portal", "werkzeug")


class LiveServer:
    """The app on a fresh SQLite file, migrated and filled with the borough, answering on a free port."""

    def __init__(self, workdir: Path) -> None:
        self.app: Flask = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'browser.sqlite3'}",
            SEARCH_INDEX_DIR=str(workdir / "search-index"),
        )
        with self.app.app_context():
            upgrade()  # the schema comes from the migrations, as in production
            self.borough: Borough = make_borough()
            db.session.remove()
        # Port 0: the operating system picks a free port, so parallel runs never collide.
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)
        self._errors = _ErrorLog()

    @property
    def errors(self) -> list[str]:
        """Errors the server logged so far, oldest first."""
        return self._errors.entries

    def start(self) -> None:
        for name in _LOGGERS:
            logging.getLogger(name).addHandler(self._errors)
        self._thread.start()

    def stop(self) -> None:
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(self._errors)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        with self.app.app_context():
            db.engine.dispose()

    def __call__(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + path
