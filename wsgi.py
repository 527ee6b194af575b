"""Entry point for gunicorn and ``flask``: ``gunicorn 'wsgi:app'``."""

from portal import create_app

try:
    app = create_app()
except RuntimeError as error:  # unsafe configuration: say why in one line, not a traceback
    raise SystemExit(f"Care Portal cannot start: {error}") from None
