"""Our OpenAPI document (served at /api/openapi.json), built from code so it describes exactly our routes.

It starts from the UK profile's openapi.json: the same paths, parameter names and response shapes. The
response schemas are the profile's compiled JSON Schemas (CC BY-SA 4.0, OpenReferralUK/uk-profile): read at
run time from ``ORUK_SCHEMA_DIR`` and embedded as components when that directory exists (so tools work
offline), otherwise referenced at their published, pinned URLs. They are never copied into this project.
It is OpenAPI 3.1 because those schemas are JSON Schema 2020-12. A test compares its paths with the app's
/api routes.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from portal.api.params import DEFAULT_PER_PAGE, MAX_AGE, MAX_PAGE, MAX_PER_PAGE, MAX_PROXIMITY_METRES, MAX_TEXT_LENGTH
from portal.oruk import HSDS_VERSION, PROFILE_URL

# The profile's compiled schemas as published, at the commit this API was checked against.
PUBLISHED_SCHEMAS = ("https://raw.githubusercontent.com/OpenReferralUK/uk-profile/"
                     "ecdfabf78944d480d7f580d08b702b08cbec4b09/schema/compiled/")
# Component name -> the profile's schema file.
COMPONENT_FILES = {
    "Service": "service.json",
    "ServiceListItem": "service_list.json",
    "ServiceAtLocation": "service_at_location.json",
    "ServiceAtLocationListItem": "service_at_location_list.json",
    "Organization": "organization.json",
    "OrganizationListItem": "organization_list.json",
    "Taxonomy": "taxonomy.json",
    "TaxonomyTerm": "taxonomy_term.json",
}
# Table Schema annotations in the profile's files: not JSON Schema, so left out of the document.
_ANNOTATIONS = {"name", "path", "datapackage_metadata", "constraints", "core", "tabular_required", "example",
                "title"}
_FILE_REFS = {f"{file}": f"#/components/schemas/{name}" for name, file in COMPONENT_FILES.items()}


def _clean(schema):
    """A profile schema as a plain JSON Schema: annotations dropped (``properties`` maps keep their field
    names), references between files pointed at our components."""
    if isinstance(schema, list):
        return [_clean(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "properties":
            cleaned[key] = {field: _clean(sub) for field, sub in value.items()}
        elif key == "$ref":
            cleaned[key] = _FILE_REFS.get(value, value)
        else:
            cleaned[key] = _clean(value)
    return cleaned


def _parameter(name: str, description: str, schema: dict, where: str = "query", required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


UUID = {"type": "string", "format": "uuid"}
PARAMETERS = {
    "text": _parameter("text", "Words to search for, as the site's search does (stemming, care synonyms, "
                       "spelling tolerance); results in order of relevance.",
                       {"type": "string", "maxLength": MAX_TEXT_LENGTH}),
    "search": _parameter("search", "The UK profile's name for `text` (used when `text` is not given).",
                         {"type": "string", "maxLength": MAX_TEXT_LENGTH}),
    "page": _parameter("page", "Page number of paginated result (from 1).",
                       {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
    "per_page": _parameter("per_page", "Number of results requested in a single page.",
                           {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE}),
    "taxonomy_term_id": _parameter(
        "taxonomy_term_id", "Services filed under this taxonomy term or any term beneath it. Several terms may "
        "be given, comma-separated or repeated: services under any of them.", UUID),
    "taxonomy_id": _parameter("taxonomy_id", "Services filed under any term of this taxonomy.", UUID),
    "organization_id": _parameter("organization_id", "Services this organization provides.", UUID),
    "modified_after": _parameter("modified_after", "Services modified on or after this date-time (ISO 8601; "
                                 "UTC when no offset is given).", {"type": "string", "format": "date-time"}),
    "minimum_age": _parameter("minimum_age", "Services whose minimum age is at least this (no minimum counts "
                              "as 0).", {"type": "number", "minimum": 0, "maximum": MAX_AGE}),
    "maximum_age": _parameter("maximum_age", "Services whose maximum age is at most this (services with no "
                              "maximum are left out).", {"type": "number", "minimum": 0, "maximum": MAX_AGE}),
    "day": _parameter("day", "Services open on this day (iCal BYDAY code; English day names are accepted too).",
                      {"type": "string", "enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]}),
    "start_time": _parameter("start_time", "Services opening at or after this time of day (HH:MM, local time); "
                             "with `day` and `end_time`, in the same opening.",
                             {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}),
    "end_time": _parameter("end_time", "Services closing at or before this time of day (HH:MM, local time).",
                           {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}),
    "postcode": _parameter("postcode", "A UK postcode or outward code. Alone, results come nearest first "
                           "(unless `text` orders them by relevance); with `proximity`, only places within "
                           "that distance of its centre. A place whose exact address is hidden counts as the "
                           "centre of its outward code.", {"type": "string", "maxLength": 16}),
    "proximity": _parameter("proximity", "Distance in metres from the centre of `postcode`.",
                            {"type": "number", "minimum": 1, "maximum": MAX_PROXIMITY_METRES}),
    "parent_id": _parameter("parent_id", "Terms directly beneath this term.", UUID),
    "vocabulary": _parameter("vocabulary", "Terms of the taxonomy with this name.",
                             {"type": "string", "maxLength": MAX_TEXT_LENGTH}),
    "top_only": _parameter("top_only", "Only terms without a parent.", {"type": "boolean"}),
    "organization_text": _parameter("text", "Words the organization's name contains.",
                                    {"type": "string", "maxLength": MAX_TEXT_LENGTH}),
}
SERVICE_FILTERS = ["text", "search", "page", "per_page", "taxonomy_term_id", "taxonomy_id", "organization_id",
                   "modified_after", "minimum_age", "maximum_age", "day", "start_time", "end_time", "postcode",
                   "proximity"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json("A parameter could not be used: `detail` says which and why.", _ref("Error")),
    "429": _json("Too many requests from this client: wait a minute.", _ref("Error")),
}


def _page_of(item: str) -> dict:
    return {"allOf": [_ref("Page")], "properties": {"contents": {"type": "array", "items": _ref(item)}},
            "required": ["contents"]}


def _list(summary: str, item: str, parameters: list[str], operation_id: str) -> dict:
    return {"get": {
        "summary": summary, "operationId": operation_id,
        "parameters": [PARAMETERS[name] for name in parameters],
        "responses": {"200": _json(summary, _page_of(item)), **ERRORS},
    }}


def _one(summary: str, schema: str, operation_id: str) -> dict:
    return {
        "parameters": [_parameter("id", "The record's id (a UUID).", UUID, where="path", required=True)],
        "get": {"summary": summary, "operationId": operation_id, "responses": {
            "200": _json(summary, _ref(schema)),
            "404": _json("There is no public record with that id.", _ref("Error")),
            **ERRORS,
        }},
    }


PAGE = {
    "type": "object",
    "required": ["total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty"],
    "properties": {
        "total_items": {"type": "integer", "description": "The total number of entities returned."},
        "total_pages": {"type": "integer", "description": "Count of total pages."},
        "page_number": {"type": "integer", "description": "The number of the current page."},
        "size": {"type": "integer", "description": "The number of entities in the current page."},
        "first_page": {"type": "boolean", "description": "Whether this is the first page."},
        "last_page": {"type": "boolean", "description": "Whether this is the last page."},
        "empty": {"type": "boolean", "description": "Whether this page is empty."},
    },
}
ERROR = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}, "parameter": {"type": "string"}},
}
ROOT = {
    "type": "object",
    "required": ["version", "openapi_url"],
    "properties": {
        "version": {"type": "string", "description": "HSDS version of this API."},
        "profile": {"type": "string", "format": "uri", "description": "URL of the HSDS profile of this API."},
        "openapi_url": {"type": "string", "format": "uri", "description": "URL of this OpenAPI document."},
    },
}


def _components(schema_dir: str) -> dict:
    directory = Path(schema_dir)
    if all((directory / file).is_file() for file in COMPONENT_FILES.values()):
        return {name: _clean(json.loads((directory / file).read_text())) for name, file in COMPONENT_FILES.items()}
    return {name: {"$ref": PUBLISHED_SCHEMAS + file} for name, file in COMPONENT_FILES.items()}


@functools.cache
def _document(schema_dir: str) -> dict:
    schemas = _components(schema_dir)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Care and support directory: Open Referral UK API",
            "version": HSDS_VERSION,
            "description": "The council's care and support directory as an Open Referral UK (HSDS 3.0 UK "
                           "profile) API. Public, read-only, no key needed; CORS open; responses carry ETag "
                           "and Last-Modified and may be cached for 60 seconds; each client may make a "
                           "limited number of requests a minute (429 beyond it). Pages carry a Link header "
                           "(first, prev, next, last).",
            "license": {"name": "Schemas: Creative Commons Attribution Share-Alike 4.0 (Open Referral UK)",
                        "url": "https://creativecommons.org/licenses/by-sa/4.0/"},
        },
        "externalDocs": {"description": "Open Referral UK profile", "url": PROFILE_URL},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": {
            "/": {"get": {"summary": "This API's HSDS version, profile and OpenAPI document.",
                          "operationId": "getAPIMetaInformation",
                          "responses": {"200": _json("Information about this API.", ROOT), **ERRORS}}},
            "/openapi.json": {"get": {"summary": "This OpenAPI document.", "operationId": "getOpenAPIDocument",
                                      "responses": {"200": _json("This document.", {"type": "object"}),
                                                    **ERRORS}}},
            "/services": _list("Paginated list of services with their one-to-one fields.", "ServiceListItem",
                               SERVICE_FILTERS, "getPaginatedListOfServices"),
            "/services/{id}": _one("A fully nested service.", "Service", "getFullyNestedServiceById"),
            "/service_at_locations": _list("Paginated list of services at locations.",
                                           "ServiceAtLocationListItem", SERVICE_FILTERS,
                                           "getPaginatedListOfServiceAtLocation"),
            "/service_at_locations/{id}": _one("A fully nested service at location.", "ServiceAtLocation",
                                               "getServiceAtLocationWithNestedDataById"),
            "/organizations": _list("Paginated list of organizations.", "OrganizationListItem",
                                    ["organization_text", "page", "per_page"], "getPaginatedListOfOrganizations"),
            "/organizations/{id}": _one("A fully nested organization with its services.", "Organization",
                                        "getFullyNestedOrganizationById"),
            "/taxonomies": _list("Paginated list of taxonomies.", "Taxonomy", ["page", "per_page"],
                                 "getPaginatedListOfTaxonomies"),
            "/taxonomies/{id}": _one("A taxonomy with its terms.", "Taxonomy", "getTaxonomyById"),
            "/taxonomy_terms": _list("Paginated list of taxonomy terms.", "TaxonomyTerm",
                                     ["page", "per_page", "taxonomy_id", "parent_id", "vocabulary", "top_only"],
                                     "getPaginatedListOfTaxonomyTerms"),
            "/taxonomy_terms/{id}": _one("A taxonomy term.", "TaxonomyTerm", "getTaxonomyTermById"),
        },
        "components": {"schemas": {"Page": PAGE, "Error": ERROR, **schemas}},
    }


def openapi_document(base_url: str, schema_dir: str) -> dict:
    """The document, with ``base_url`` (this API's absolute root, without a trailing slash) as its server and
    the profile's schemas from ``schema_dir`` (config ORUK_SCHEMA_DIR)."""
    document = copy.copy(_document(schema_dir))
    document["servers"] = [{"url": base_url}]
    return document
