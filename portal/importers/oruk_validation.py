"""Validating Open Referral UK service records before they are imported.

Records are checked against the UK profile's compiled ``service.json`` (JSON Schema Draft 2020-12 with format
checks), read at run time from a directory (config ``ORUK_SCHEMA_DIR``); without it, a smaller set of
structural checks of our own stands in, and ``RecordValidator.uses_schema`` says which was used. Every problem
is reported in plain English: a path into the record and what is wrong there.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from portal.oruk.parsing import STATUSES

FORMAT_NAMES = {
    "email": "email address",
    "uri": "web address (URL)",
    "uri-reference": "web address (URL)",
    "uuid": "UUID",
    "date-time": "date and time (ISO 8601)",
    "date": "date (YYYY-MM-DD)",
}
JSON_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


# --- Validation ----------------------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe_schema_error(error: Any) -> str:
    """One jsonschema ValidationError as "path: what is wrong"."""
    where = _path(error.absolute_path)
    prefix = f"{where}: " if where else ""
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        names = ", ".join(f"{where}.{name}" if where else name for name in missing) or error.message
        return f"{names}: missing, and it is required"
    if kind == "format":
        return f"{prefix}{value!r} is not a valid {FORMAT_NAMES.get(expected, expected)}"
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(JSON_TYPE_NAMES.get(kind, kind) for kind in kinds)
        return f"{prefix}should be {wanted}, not {_json_type(value)} ({json.dumps(value)[:60]})"
    if kind == "enum":
        return f"{prefix}{value!r} is not one of: {', '.join(map(str, expected))}"
    return f"{prefix}{error.message}"


@lru_cache(maxsize=8)
def _schema_validator(path: str):
    import jsonschema

    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    validator_class = jsonschema.Draft202012Validator
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


class RecordValidator:
    """Checks ORUK service records against ``service.json`` in ``schema_dir`` (when it is there)."""

    def __init__(self, schema_dir: Path | None) -> None:
        self.schema_path = (schema_dir / "service.json") if schema_dir else None
        self.uses_schema = bool(self.schema_path and self.schema_path.is_file())

    def problems(self, record: Any) -> list[str]:
        """Every reason ``record`` is not a valid ORUK service, in plain English (empty: valid)."""
        if not isinstance(record, dict):
            return [f"the record should be an object, not {_json_type(record)}"]
        if self.uses_schema:
            validator = _schema_validator(str(self.schema_path))
            errors = sorted(validator.iter_errors(record), key=lambda e: (list(map(str, e.absolute_path)), e.message))
            found = [describe_schema_error(error) for error in errors]
        else:
            found = structural_problems(record)
        return list(dict.fromkeys(found))


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _text_problem(record: dict, name: str, where: str, check: str | None = None) -> str | None:
    value = record.get(name)
    label = f"{where}{name}"
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{label}: should be text, not {_json_type(value)} ({json.dumps(value)[:60]})"
    if check == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        return f"{label}: {value!r} is not a valid email address"
    if check == "uri" and not re.match(r"https?://[^\s/]+", value):
        return f"{label}: {value!r} is not a valid web address (URL)"
    if check == "uuid" and not _is_uuid(value):
        return f"{label}: {value!r} is not a valid UUID"
    return None


def structural_problems(record: dict) -> list[str]:
    """Our own checks, used when the profile's schemas are not available: required fields, ids, types,
    emails and web addresses of the service and its organisation, and the shape of its lists."""
    problems = [f"{name}: missing, and it is required" for name in ("id", "name", "status") if name not in record]
    checks = (("id", "uuid"), ("organization_id", "uuid"), ("name", None), ("description", None), ("url", "uri"),
              ("email", "email"), ("status", None), ("fees", None), ("assurer_email", "email"))
    problems += [p for name, check in checks if (p := _text_problem(record, name, "", check))]
    if isinstance(record.get("status"), str) and record["status"] not in STATUSES:
        problems.append(f"status: {record['status']!r} is not one of: {', '.join(STATUSES)}")
    for name in ("minimum_age", "maximum_age"):
        value = record.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{name}: should be a number, not {_json_type(value)} ({json.dumps(value)[:60]})")
    organisation = record.get("organization")
    if organisation is not None:
        if not isinstance(organisation, dict):
            problems.append(f"organization: should be an object, not {_json_type(organisation)}")
        else:
            problems += [f"organization.{name}: missing, and it is required"
                         for name in ("id", "name", "description") if name not in organisation]
            problems += [p for name, check in (("id", "uuid"), ("email", "email"), ("website", "uri"))
                         if (p := _text_problem(organisation, name, "organization.", check))]
    for name in ("schedules", "service_areas", "service_at_locations", "languages", "cost_options", "contacts",
                 "attributes", "funding"):
        items = record.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(f"{name}: should be a list, not {_json_type(items)}")
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"{name}[{index}]: should be an object, not {_json_type(item)}")
            elif not _is_uuid(item.get("id")):
                problems.append(f"{name}[{index}].id: missing or not a valid UUID")
    return problems
