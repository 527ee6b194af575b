""""Is this page useful?" on guides: stored with personal data stripped, thanked, validated, honeypot and rate
limit like the other public forms. Both databases."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.data import guides
from portal.models import GuideFeedback
from tests.support.html import form_data, parse, texts


def published_guide():
    guide = guides.create_guide(actor=None, values={
        "title": "Paying for care", "summary": "What you pay.", "body": "Most people pay something.",
        "review_by": date.today() + timedelta(days=200)})
    guides.publish(actor=None, guide=guide)
    return guide


def send(client, guide, **fields):
    page = parse(client.get(f"/guides/{guide.slug}"))
    return client.post(f"/guides/{guide.slug}/feedback",
                       data=form_data(page, "//form[contains(@action, '/feedback')]", **fields))


def stored(session) -> list[GuideFeedback]:
    return list(session.scalars(sa.select(GuideFeedback)))


def test_a_reader_says_a_guide_was_useful_and_is_thanked(client, session):
    guide = published_guide()

    response = send(client, guide, useful="yes")
    page = parse(client.get(response.headers["Location"]))

    assert response.status_code == 302
    assert [(item.useful, item.comment, item.locale) for item in stored(session)] == [(True, "", "en")]
    assert texts(page, "//section[@id='guide-feedback']/h2") == ["Thank you for your feedback"]
    assert page.xpath("//section[@id='guide-feedback']//form") == []


def test_personal_details_in_a_comment_are_removed_before_it_is_stored(client, session):
    guide = published_guide()
    comment = ("My name is Jane Smith. It did not say how much my mum pays. Email jane.smith@example.com or "
               "call 07700 900 982. We live at AM1 1AA, her NHS number is 943 476 5919 and NI number "
               "QQ 12 34 56 C. I paid with 4111 1111 1111 1111.")

    send(client, guide, useful="no", comment=comment)

    (feedback,) = stored(session)
    assert feedback.useful is False
    assert feedback.comment == (
        "My name is [removed]. It did not say how much my mum pays. Email [removed] or call [removed]. "
        "We live at [removed], her NHS number is [removed] and NI number [removed]. I paid with [removed].")


def test_feedback_in_welsh_records_the_language(client, session):
    guide = published_guide()
    client.get("/guides?lang=cy")

    send(client, guide, useful="", comment="Defnyddiol iawn, diolch")

    assert [(item.useful, item.comment, item.locale) for item in stored(session)] == [
        (None, "Defnyddiol iawn, diolch", "cy")]


def test_feedback_with_no_answer_and_no_comment_is_refused_in_gov_uk_wording(client, session):
    guide = published_guide()

    page = parse(send(client, guide, comment="  "))

    assert texts(page, "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Select yes if this page is useful, or tell us how we could improve it"]
    assert page.xpath("string(//title)").startswith("Error:")
    assert stored(session) == []


def test_a_robot_filling_the_hidden_field_is_thanked_and_nothing_is_stored(client, session):
    guide = published_guide()

    response = send(client, guide, useful="yes", website="https://spam.example")

    assert response.status_code == 302
    assert stored(session) == []


def test_sending_too_much_feedback_is_refused_with_429(client, session, app):
    guide = published_guide()
    page = parse(client.get(f"/guides/{guide.slug}"))
    data = form_data(page, "//form[contains(@action, '/feedback')]", useful="yes")
    allowed = int(app.config["PUBLIC_FORM_RATE_LIMIT"].split()[0])

    statuses = [client.post(f"/guides/{guide.slug}/feedback", data=data).status_code for _ in range(allowed + 1)]

    assert statuses == [302] * allowed + [429]
    assert len(stored(session)) == allowed


def test_feedback_without_a_csrf_token_is_refused(client, session):
    guide = published_guide()

    response = client.post(f"/guides/{guide.slug}/feedback", data={"useful": "yes"})

    assert response.status_code == 400
    assert stored(session) == []
