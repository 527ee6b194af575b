"""The API's views: parse the parameters, one read from ``portal.api.queries``, map with ``portal.oruk.mapping``."""

from __future__ import annotations

from flask import Response, current_app, request, url_for

from portal.api import bp, params, queries
from portal.api.openapi import openapi_document
from portal.api.params import BadParameter
from portal.api.queries import UnknownPostcode
from portal.api.responses import error_response, json_response, page_response
from portal.oruk import HSDS_VERSION, PROFILE_URL, mapping
from portal.public.presenters import language_name


@bp.errorhandler(BadParameter)
def _bad_parameter(error: BadParameter):
    return error_response(400, "bad_parameter", f"{error.name} {error.detail}", parameter=error.name)


def _english_language_name(code: str) -> str:
    return str(language_name(code, "en"))


def _not_found(kind: str) -> Response:
    return error_response(404, "not_found", f"There is no public {kind} with that id.")


def _id(value: str):
    return params.parse_uuid(value, "id")


@bp.get("/")
def root():
    return json_response({
        "version": HSDS_VERSION,
        "profile": PROFILE_URL,
        "openapi_url": url_for("api.openapi", _external=True),
    })


@bp.get("/openapi.json")
def openapi():
    return json_response(
        openapi_document(url_for("api.root", _external=True).rstrip("/"), current_app.config["ORUK_SCHEMA_DIR"])
    )


# --- services -----------------------------------------------------------------------------------------------


@bp.get("/services")
def list_services():
    paging, query = params.paging(request.args), params.service_query(request.args)
    try:
        found = queries.list_services(query, paging.page, paging.per_page)
    except UnknownPostcode as reason:
        raise BadParameter("postcode", str(reason)) from None
    stamps = [stamp for service in found.items for stamp in (service.updated_at, service.organisation.updated_at)]
    return page_response(found, mapping.service_list_item, mapping.newest(*stamps))


@bp.get("/services/<id>")
def get_service(id: str):
    service = queries.public_service(_id(id))
    if service is None:
        return _not_found("service")
    body = mapping.service_full(service, queries.OutwardCentres(), _english_language_name)
    stamps = [service.updated_at, service.organisation.updated_at, *(place.updated_at for place in service.locations)]
    return json_response(body, last_modified=mapping.newest(*stamps))


@bp.get("/service_at_locations")
def list_services_at_locations():
    paging, query = params.paging(request.args), params.service_query(request.args)
    try:
        found = queries.list_services_at_locations(query, paging.page, paging.per_page)
    except UnknownPostcode as reason:
        raise BadParameter("postcode", str(reason)) from None
    centres = queries.OutwardCentres()
    stamps = [stamp for link in found.items for stamp in (link.service.updated_at, link.location.updated_at)]
    return page_response(found, lambda link: mapping.service_at_location_list_item(link, centres),
                         mapping.newest(*stamps))


@bp.get("/service_at_locations/<id>")
def get_service_at_location(id: str):
    link = queries.public_service_at_location(_id(id))
    if link is None:
        return _not_found("service at location")
    body = mapping.service_at_location_full(link, queries.OutwardCentres(), _english_language_name)
    return json_response(body, last_modified=mapping.newest(link.service.updated_at, link.location.updated_at,
                                                            link.service.organisation.updated_at))


# --- organisations --------------------------------------------------------------------------------------


@bp.get("/organizations")
def list_organizations():
    paging = params.paging(request.args)
    found = queries.list_organisations(text=params.text(request.args, "text", "search"), page=paging.page,
                                       per_page=paging.per_page)
    return page_response(found, mapping.organization_list_item,
                         mapping.newest(*(organisation.updated_at for organisation in found.items)))


@bp.get("/organizations/<id>")
def get_organization(id: str):
    found = queries.approved_organisation(_id(id))
    if found is None:
        return _not_found("organization")
    organisation, services = found
    body = mapping.organization_full(organisation, services, queries.OutwardCentres(),
                                     _english_language_name)
    return json_response(body, last_modified=mapping.newest(organisation.updated_at,
                                                            *(service.updated_at for service in services)))


# --- taxonomies ---------------------------------------------------------------------------------------------


@bp.get("/taxonomies")
def list_taxonomies():
    paging = params.paging(request.args)
    return page_response(queries.list_taxonomies(paging.page, paging.per_page), mapping.taxonomy)


@bp.get("/taxonomies/<id>")
def get_taxonomy(id: str):
    found = queries.taxonomy_with_terms(_id(id))
    if found is None:
        return _not_found("taxonomy")
    return json_response(mapping.taxonomy(*found))


@bp.get("/taxonomy_terms")
def list_taxonomy_terms():
    paging = params.paging(request.args)
    query = queries.TermQuery(
        taxonomy_id=params.identifier(request.args, "taxonomy_id"),
        parent_id=params.identifier(request.args, "parent_id"),
        vocabulary=params.text(request.args, "vocabulary"),
        top_only=params.boolean(request.args, "top_only"),
    )
    return page_response(queries.list_taxonomy_terms(query, paging.page, paging.per_page), mapping.taxonomy_term)


@bp.get("/taxonomy_terms/<id>")
def get_taxonomy_term(id: str):
    term = queries.taxonomy_term(_id(id))
    if term is None:
        return _not_found("taxonomy term")
    return json_response(mapping.taxonomy_term(term))
