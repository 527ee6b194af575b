"""Benchmarks of the directory search (not tests: they print figures and never run in ``make test``)."""
