"""A listing as a search document. Pure: takes loaded rows, returns a dict."""

from __future__ import annotations

from portal.models import Service


def _category_slugs(service: Service) -> list[str]:
    # A parent category includes its children: index every ancestor's slug too.
    slugs: list[str] = []
    for term in service.taxonomy_terms:
        for each in [term, *term.ancestors()]:
            if each.slug not in slugs:
                slugs.append(each.slug)
    return slugs


def _category_words(service: Service) -> list[str]:
    words: list[str] = []
    for term in service.taxonomy_terms:
        for each in [term, *term.ancestors()]:
            words.extend(filter(None, [each.name, each.name_cy]))
    return words


def service_document(service: Service) -> dict:
    localities = [area.locality for area in service.service_areas if area.locality is not None]
    body_parts = [
        service.summary,
        service.description,
        service.organisation.name,
        service.eligibility_description,
        *_category_words(service),
        *(need.name for need in service.needs),
        *(locality.name for locality in localities),
        *(location.city for location in service.locations),
    ]
    body = "\n".join(part for part in body_parts if part)
    return {
        "id": str(service.id),
        "kind": "service",
        "name": service.name,
        "body": body,
        "spelling": f"{service.name}\n{body}",
        "organisation": str(service.organisation_id),
        "categories": ",".join(_category_slugs(service)),
        "needs": ",".join(need.slug for need in service.needs),
        "localities": ",".join(locality.slug for locality in localities),
        "languages": ",".join(language.code for language in service.languages),
        "min_age": service.minimum_age if service.minimum_age is not None else 0,
        "max_age": service.maximum_age if service.maximum_age is not None else 200,
        "is_free": bool(service.is_free),
        "in_person": bool(service.in_person),
        "online": bool(service.online),
        "by_phone": bool(service.by_phone),
        "local_offer": bool(service.local_offer),
        "updated": int(service.updated_at.timestamp()) if service.updated_at else 0,
    }
