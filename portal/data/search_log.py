"""The anonymous search demand log: what people search for, where (outward code only) and what they found.

No IP address, no account, no full postcode: a row cannot be tied back to a person. The request commits.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.extensions import db
from portal.models import SearchLog

MAX_TEXT = 500
MAX_VALUES_PER_FILTER = 20


def record_search(*, text: str, filters: Mapping[str, tuple[str, ...] | list[str]], outward_code: str | None,
                  result_count: int, language: str) -> SearchLog:
    """Stage one search in the demand log. ``outward_code`` must already be only the outward part
    ("HP21", never "HP21 7JF"): anything longer than an outward code is refused by dropping it."""
    if outward_code is not None and (" " in outward_code or len(outward_code) > 4):
        outward_code = None
    entry = SearchLog(
        text=" ".join(text.split())[:MAX_TEXT],
        filters={name: list(values)[:MAX_VALUES_PER_FILTER] for name, values in filters.items() if values} or None,
        outward_code=outward_code or None,
        result_count=result_count,
        language=language[:5],
    )
    db.session.add(entry)
    return entry
