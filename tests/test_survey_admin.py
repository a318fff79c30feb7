"""Surveys administered through the web pages: an administrator's copy, drafts of the next
version, publishing (codes and kiosks ask the new version at once), discarding, previews, and
who may do any of it. Through the real HTTP interface, as an administrator's browser would."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from surveys import spec as spec_module
from surveys import survey_admin, survey_content
from surveys.db import utcnow
from surveys.errors import InvalidTransition
from surveys.models import AuditEntry, Office, Response, Survey
from tests.conftest import csrf_token

ADMIN = "admin@example.vn"
NEW_OVERALL = "Ông/Bà có hài lòng với cách cán bộ giải quyết hồ sơ hôm nay không?"


class FormFields(HTMLParser):
    """What a browser would send from one form of a page: its named controls' values."""

    def __init__(self, form_class: str):
        super().__init__()
        self.form_class = form_class
        self.inside = False
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._first = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = self.form_class in (a.get("class") or "").split()
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[a["name"]] = a.get("value", "on")
            else:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
            self._first = True
        elif tag == "option" and self._select and ("selected" in a or self._first):
            self.fields[self._select] = a.get("value", "")
            self._first = False

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_of(html: str, form_class: str = "survey-editor") -> dict[str, str]:
    parser = FormFields(form_class)
    parser.feed(html)
    return parser.fields


@pytest.fixture()
def as_admin(client, city, make_user, login):
    """Sign the test client in as an administrator who reads English."""

    def sign_in(scope=None, email=ADMIN):
        make_user(email, "admin", scope)
        assert login(email).status_code == 302
        client.set_cookie("hailong_lang", "en")

    return sign_in


def token(client) -> str:
    return csrf_token(client.get("/admin/surveys").get_data(as_text=True))


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={"csrf_token": token(client), **(data or {})})


def copy_quick(client, key="quick_o1"):
    response = post(
        client,
        "/admin/surveys/quick/copy",
        {"key": key, "name_vi": "Đánh giá nhanh Quận Một", "name_en": "Quick rating, district 1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/surveys/{key}/1/edit")
    return response.headers["Location"]


def edit(client, url: str, change) -> object:
    """Open the editor, change its fields as a person would, and send it."""
    page = client.get(url)
    assert page.status_code == 200
    fields = form_of(page.get_data(as_text=True))
    change(fields)
    return client.post(url, data=fields)


def reword(fields):
    fields["q-0-text_vi"] = NEW_OVERALL
    fields["q-0-c-2-text_vi"] = "Chưa hài lòng"
    fields["q-0-c-2-text_en"] = "Not yet satisfied"


def choose_for_office(client, office="O1", key="quick_o1"):
    data = {f"survey-{channel}": key for channel in ("kiosk", "office", "counter", "ticket")}
    response = post(client, f"/admin/org/offices/{office}/surveys", data)
    assert response.status_code == 302


def send_response(app, code: str, answer="not_satisfied"):
    """Rate a code from a new phone (each phone may answer a code once in a while)."""
    response_id = str(uuid.uuid4())
    sent = app.test_client().post(
        "/api/v1/responses",
        json={"id": response_id, "target": code, "answers": {"overall": answer}},
    )
    assert sent.status_code == 201, sent.get_json()
    return uuid.UUID(response_id)


def survey_of(db, response_id) -> tuple[str, int]:
    db.expire_all()
    response = db.get(Response, response_id)
    survey = db.get(Survey, response.survey_id)
    return survey.key, survey.version


class TestCopyEditPublish:
    def test_a_copy_edited_and_published_is_asked_where_it_was_chosen(
        self, app, client, db, city, as_admin
    ):
        as_admin()
        before = send_response(app, city.office_code)
        edit_url = copy_quick(client)
        assert edit(client, edit_url, reword).status_code == 302
        # A draft is asked nowhere: the organisation pages offer published surveys only.
        assert b"quick_o1" not in client.get("/admin/org/offices/O1").data
        published = post(client, "/admin/surveys/quick_o1/1/publish")
        assert published.status_code == 302
        choose_for_office(client)

        survey = client.get(f"/api/v1/surveys/{city.office_code}").get_json()
        assert survey["survey"] == {"key": "quick_o1", "version": 1}
        overall = survey["questions"][0]
        assert overall["text"]["vi"] == NEW_OVERALL
        assert overall["choices"][2]["text"] == {"vi": "Chưa hài lòng", "en": "Not yet satisfied"}
        assert NEW_OVERALL in app.test_client().get(f"/s/{city.counter_code}").get_data(
            as_text=True
        )
        first = send_response(app, city.office_code)
        assert survey_of(db, first) == ("quick_o1", 1)
        assert survey_of(db, before) == ("quick", 1)
        # The other district still asks the default.
        other = client.get(f"/api/v1/surveys/{city.other_office_code}").get_json()
        assert other["survey"] == {"key": "quick", "version": 1}

        # The next edit is a new version, asked at once where the key is chosen.
        started = post(client, "/admin/surveys/quick_o1/draft")
        assert started.headers["Location"].endswith("/admin/surveys/quick_o1/2/edit")

        def reword_again(fields):
            fields["q-0-text_en"] = "Were you satisfied today?"

        assert edit(client, "/admin/surveys/quick_o1/2/edit", reword_again).status_code == 302
        # Until it is published, citizens keep version 1.
        assert (
            client.get(f"/api/v1/surveys/{city.office_code}").get_json()["survey"]["version"] == 1
        )
        assert post(client, "/admin/surveys/quick_o1/2/publish").status_code == 302

        survey = client.get(f"/api/v1/surveys/{city.office_code}").get_json()
        assert survey["survey"] == {"key": "quick_o1", "version": 2}
        assert survey["questions"][0]["text"] == {
            "vi": NEW_OVERALL,
            "en": "Were you satisfied today?",
        }
        page = app.test_client().get(f"/s/{city.office_code}?lang=en").get_data(as_text=True)
        assert "Were you satisfied today?" in page
        second = send_response(app, city.counter_code)
        assert survey_of(db, second) == ("quick_o1", 2)
        assert survey_of(db, first) == ("quick_o1", 1)
        db.expire_all()
        office = db.scalar(select(Office).where(Office.code == "O1"))
        v2 = db.scalar(select(Survey).where(Survey.key == "quick_o1", Survey.version == 2))
        assert office.kiosk_survey_id == office.ticket_survey_id == v2.id

    def test_a_new_version_of_a_default_reaches_every_office_asking_it(
        self, app, client, db, city, as_admin
    ):
        as_admin()
        assert post(client, "/admin/surveys/quick/draft").status_code == 302
        assert edit(client, "/admin/surveys/quick/2/edit", reword).status_code == 302
        response = post(client, "/admin/surveys/quick/2/publish")
        assert response.status_code == 302
        for code in (city.office_code, city.counter_code, city.other_office_code):
            survey = client.get(f"/api/v1/surveys/{code}").get_json()
            assert survey["survey"] == {"key": "quick", "version": 2}
        # Officers' codes ask office culture by default: untouched.
        officer = client.get(f"/api/v1/surveys/{city.officer_code}").get_json()
        assert officer["survey"] == {"key": "office_culture", "version": 1}
        flashed = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Version 2 is published" in flashed or "Phiên bản 2" in flashed

    def test_the_kiosk_asks_the_published_version(
        self, app, client, db, city, as_admin, device_token
    ):
        as_admin()
        copy_quick(client)
        assert edit(client, "/admin/surveys/quick_o1/1/edit", reword).status_code == 302
        post(client, "/admin/surveys/quick_o1/1/publish")
        choose_for_office(client)
        kiosk = app.test_client()
        kiosk.set_cookie("hailong_device", device_token)
        assert NEW_OVERALL in kiosk.get("/kiosk").get_data(as_text=True)

    def test_reorder_add_and_remove_questions_and_choices(self, client, db, city, as_admin):
        as_admin()
        url = copy_quick(client)

        def change(fields):
            fields["q-2-remove"] = "1"  # the comment
            fields["q-1-c-7-remove"] = "1"  # reason "other"
            fields["q-0-c-1-position"] = "9"  # "satisfied" would no longer be best first...
            fields["q-0-c-2-position"] = "10"  # ...unless "not satisfied" stays last
            fields["q-1-position"] = "3"  # the reasons, after the new question
            new = "q-3-"
            fields.update(
                {
                    new + "position": "2",
                    new + "key": "served_on_time",
                    new + "kind": "choice",
                    new + "text_vi": "Hồ sơ có được trả đúng hẹn không?",
                    new + "text_en": "Was your request handled on time?",
                    new + "c-0-key": "yes",
                    new + "c-0-polarity": "positive",
                    new + "c-0-text_vi": "Có",
                    new + "c-0-text_en": "Yes",
                    new + "c-1-key": "no",
                    new + "c-1-polarity": "negative",
                    new + "c-1-text_vi": "Không",
                    new + "c-1-text_en": "No",
                }
            )

        assert edit(client, url, change).status_code == 302
        draft = db.scalar(select(Survey).where(Survey.key == "quick_o1"))
        assert [q.key for q in draft.questions] == ["overall", "served_on_time", "reasons"]
        assert [c.key for c in draft.questions[0].choices] == [
            "very_satisfied",
            "satisfied",
            "not_satisfied",
        ]
        assert "other" not in [c.key for c in draft.questions[2].choices]
        assert [c.key for c in draft.questions[1].choices] == ["yes", "no"]
        # The page shows the saved draft with fresh blank rows to add more.
        fields = form_of(client.get(url).get_data(as_text=True))
        assert fields["q-3-key"] == "" and fields["q-1-c-2-key"] == ""

    def test_a_long_survey_in_both_languages_fits_through_the_form(
        self, client, db, city, as_admin
    ):
        as_admin()
        url = copy_quick(client)

        def grow(fields):
            fields["q-2-remove"] = "1"
            for i in range(3, 28):
                q = f"q-{i}-"
                fields.update(
                    {
                        q + "position": str(i),
                        q + "key": f"criterion_{i}",
                        q + "kind": "scale",
                        q + "text_vi": "Ông/Bà đánh giá thế nào về tiêu chí số " + "ẩ" * 250,
                        q + "text_en": "How satisfied are you with criterion " + "e" * 250,
                    }
                )
                for j, polarity in enumerate(["positive"] * 2 + ["neutral"] + ["negative"] * 2):
                    c = f"{q}c-{j}-"
                    fields.update(
                        {
                            c + "position": str(j + 1),
                            c + "key": f"level_{j}",
                            c + "polarity": polarity,
                            c + "text_vi": f"Mức độ hài lòng thứ {j}",
                            c + "text_en": f"Level {j}",
                        }
                    )

        page = client.get(url)
        fields = form_of(page.get_data(as_text=True))
        grow(fields)
        assert len(urlencode(fields)) > 64 * 1024
        assert client.post(url, data=fields).status_code == 302
        draft = db.scalar(select(Survey).where(Survey.key == "quick_o1"))
        assert len(draft.questions) == 27
        assert client.get(url).status_code == 200

    def test_audit_log_records_every_change(self, client, db, city, as_admin):
        as_admin()
        copy_quick(client)
        edit(client, "/admin/surveys/quick_o1/1/edit", reword)
        post(client, "/admin/surveys/quick_o1/1/publish")
        post(client, "/admin/surveys/quick_o1/draft")
        post(client, "/admin/surveys/quick_o1/2/discard")
        entries = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("survey."))
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.action, e.subject) for e in entries] == [
            ("survey.copy", "quick_o1 v1"),
            ("survey.update", "quick_o1 v1"),
            ("survey.publish", "quick_o1 v1"),
            ("survey.draft", "quick_o1 v2"),
            ("survey.discard", "quick_o1 v2"),
        ]
        update = entries[1]
        assert update.actor_email == ADMIN and update.actor_role == "admin"
        assert set(update.after) == {"question.overall"}
        assert update.after["question.overall"]["text"]["vi"] == NEW_OVERALL
        assert update.before["question.overall"]["text"]["vi"] != NEW_OVERALL

    def test_the_list_shows_versions_and_who_asks_them(self, client, db, city, as_admin):
        as_admin()
        copy_quick(client)
        post(client, "/admin/surveys/quick_o1/1/publish")
        choose_for_office(client)
        post(client, "/admin/surveys/quick_o1/draft")
        page = client.get("/admin/surveys").get_data(as_text=True)
        assert "quick_o1" in page and city.office.name in page
        detail = client.get("/admin/surveys/quick_o1").get_data(as_text=True)
        assert "/admin/surveys/quick_o1/2/edit" in detail
        assert city.office.name in detail


class TestPublishedVersionsNeverChange:
    def test_a_published_version_cannot_be_edited_published_or_discarded(
        self, client, db, city, as_admin
    ):
        as_admin()
        url = copy_quick(client)
        fields = form_of(client.get(url).get_data(as_text=True))
        post(client, "/admin/surveys/quick_o1/1/publish")
        fields["q-0-text_vi"] = "Đổi sau khi công bố"
        assert client.post(url, data=fields).status_code == 409
        assert post(client, "/admin/surveys/quick_o1/1/publish").status_code == 409
        assert post(client, "/admin/surveys/quick_o1/1/discard").status_code == 409
        assert post(client, "/admin/surveys/quick/1/discard").status_code == 409
        # The editor of a published version sends the reader to start a draft instead.
        assert client.get(url).status_code == 302
        db.expire_all()
        survey = db.scalar(select(Survey).where(Survey.key == "quick_o1"))
        assert survey.is_published and survey.questions[0].text_vi != "Đổi sau khi công bố"

    def test_the_database_session_refuses_a_change_to_a_published_version(self, db, city):
        quick = db.scalar(select(Survey).where(Survey.key == "quick"))
        quick.questions[0].text_vi = "Sửa thẳng"
        with pytest.raises(InvalidTransition):
            db.flush()
        db.rollback()
        quick = db.scalar(select(Survey).where(Survey.key == "quick"))
        quick.questions[1].choices.pop()
        with pytest.raises(InvalidTransition):
            db.flush()
        db.rollback()
        db.delete(db.scalar(select(Survey).where(Survey.key == "sipas")))
        with pytest.raises(InvalidTransition):
            db.flush()
        db.rollback()

    def test_starting_a_draft_twice_reuses_it(self, client, db, city, as_admin):
        as_admin()
        first = post(client, "/admin/surveys/quick/draft").headers["Location"]
        again = post(client, "/admin/surveys/quick/draft").headers["Location"]
        assert first == again and first.endswith("/admin/surveys/quick/2/edit")
        assert len(db.scalars(select(Survey).where(Survey.key == "quick")).all()) == 2


class TestValidation:
    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            (
                lambda f: f.update({"q-0-c-1-remove": "1", "q-0-c-2-remove": "1"}),
                "q-0-choices",
                "at least two choices",
            ),
            (
                lambda f: f.update({"q-0-c-1-key": "very_satisfied"}),
                "q-0-c-1-key",
                "already in use",
            ),
            (lambda f: f.update({"q-1-key": "Thái độ"}), "q-1-key", "lower-case letters"),
            (lambda f: f.update({"q-1-key": "csrf_token"}), "q-1-key", "lower-case letters"),
            (lambda f: f.update({"q-0-text_en": "  "}), "q-0-text_en", "This is required."),
            (lambda f: f.update({"q-0-c-0-text_vi": "x" * 201}), "q-0-c-0-text_vi", "too long"),
            (lambda f: f.update({"q-0-c-0-polarity": "negative"}), "q-0-choices", "best first"),
            (lambda f: f.update({"q-1-position": "1x"}), "q-1-position", "whole number"),
            (lambda f: f.update({"q-2-max_length": "99999"}), "q-2-max_length", "out of the"),
            (lambda f: f.update({"q-1-follows": "comment"}), "q-1-follows", "earlier question"),
            (lambda f: f.update({"q-1-position": "0"}), "q-1-follows", "earlier question"),
            (lambda f: f.update({"q-1-when": "neutral"}), "q-1-follows", "No answer of that"),
            (lambda f: f.update({"headline": "2"}), "headline-2", "exactly one headline"),
            (lambda f: f.update({"q-0-remove": "1"}), "questions", "exactly one headline"),
            (lambda f: f.update({"name_en": ""}), "name_en", "This is required."),
            (
                lambda f: f.update(
                    {"q-2-c-3-key": "x", "q-2-c-3-text_vi": "x", "q-2-c-3-text_en": "x"}
                ),
                "q-2-choices",
                "free-text question has no choices",
            ),
        ],
    )
    def test_mistakes_are_shown_under_their_field_and_nothing_is_saved(
        self, client, db, city, as_admin, change, field, message
    ):
        as_admin()
        url = copy_quick(client)
        response = edit(client, url, lambda fields: (reword(fields), change(fields)))
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert f'id="e-{field}"' in page
        error_line = page[page.index(f'id="e-{field}"') :].split("</p>")[0]
        assert message in error_line
        # What was typed stays in the form, so nothing has to be typed again.
        assert NEW_OVERALL in page
        db.expire_all()
        draft = db.scalar(select(Survey).where(Survey.key == "quick_o1"))
        assert draft.questions[0].text_vi != NEW_OVERALL

    def test_messages_are_in_vietnamese_by_default(self, client, db, city, as_admin):
        as_admin()
        url = copy_quick(client)
        client.set_cookie("hailong_lang", "vi")
        response = edit(
            client, url, lambda f: f.update({"q-0-c-1-remove": "1", "q-0-c-2-remove": "1"})
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Câu hỏi thang mức hoặc chọn một cần ít nhất hai lựa chọn" in page
        assert "Chưa lưu được bản nháp" in page

    def test_a_copy_needs_a_new_safe_key_and_names(self, client, db, city, as_admin):
        as_admin()
        copy_quick(client)
        taken = post(
            client,
            "/admin/surveys/quick/copy",
            {"key": "quick_o1", "name_vi": "Một", "name_en": "One"},
        )
        assert taken.status_code == 400 and "already in use" in taken.get_data(as_text=True)
        unsafe = post(
            client,
            "/admin/surveys/quick/copy",
            {"key": "nhanh quận 1", "name_vi": "Một", "name_en": "One"},
        )
        assert unsafe.status_code == 400
        assert "lower-case letters" in unsafe.get_data(as_text=True)
        assert post(client, "/admin/surveys/nothing/copy", {"key": "x"}).status_code in (400, 404)
        assert len(db.scalars(select(Survey).where(Survey.key != "quick")).all()) == 3


class TestPreview:
    def test_phone_preview_renders_the_draft_and_stores_nothing(
        self, app, client, db, city, as_admin
    ):
        as_admin()
        url = copy_quick(client)
        edit(client, url, reword)
        page = client.get("/admin/surveys/quick_o1/1/preview/phone?lang=vi")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert NEW_OVERALL in html and "Chưa hài lòng" in html
        english = client.get("/admin/surveys/quick_o1/1/preview/phone?lang=en")
        assert "Not yet satisfied" in english.get_data(as_text=True)
        assert 'action="/admin/surveys/quick_o1/1/preview/phone"' in html
        assert 'name="overall"' in html and 'class="question q-scale headline"' in html
        fields = {"csrf_token": csrf_token(html), "overall": "not_satisfied"}
        fine = client.post("/admin/surveys/quick_o1/1/preview/phone", data=fields)
        assert fine.status_code == 200
        assert "These answers fit the survey." in fine.get_data(as_text=True) or "phù hợp" in (
            fine.get_data(as_text=True)
        )
        wrong = client.post(
            "/admin/surveys/quick_o1/1/preview/phone", data={"csrf_token": csrf_token(html)}
        )
        assert wrong.status_code == 400 and 'id="e-overall"' in wrong.get_data(as_text=True)
        assert db.scalars(select(Response)).all() == []
        # A draft is built afresh for each preview, never kept in the process's cache.
        draft = db.scalar(select(Survey).where(Survey.key == "quick_o1"))
        assert (draft.id, draft.created_at) not in spec_module._CACHE

    def test_kiosk_preview_renders_both_languages_and_sends_nothing(
        self, client, db, city, as_admin
    ):
        as_admin()
        url = copy_quick(client)
        edit(client, url, reword)
        page = client.get("/admin/surveys/quick_o1/1/preview/kiosk")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert 'data-preview="true"' in html and "data-token" not in html
        assert NEW_OVERALL in html and "Not yet satisfied" in html
        assert 'action="/admin/surveys/quick_o1/1/preview/kiosk"' in html
        assert "js/kiosk.js" in html
        wrong = client.post(
            "/admin/surveys/quick_o1/1/preview/kiosk", data={"csrf_token": csrf_token(html)}
        )
        assert wrong.status_code == 400
        assert db.scalars(select(Response)).all() == []

    def test_published_versions_have_previews_too(self, client, city, as_admin):
        as_admin()
        for kind in ("phone", "kiosk"):
            assert client.get(f"/admin/surveys/sipas/1/preview/{kind}").status_code == 200
        assert client.get("/admin/surveys/sipas/9/preview/phone").status_code == 404

    def test_the_real_kiosk_and_phone_pages_have_no_preview_bar(self, app, city, device_token):
        kiosk = app.test_client()
        kiosk.set_cookie("hailong_device", device_token)
        page = kiosk.get("/kiosk").get_data(as_text=True)
        assert "preview-bar" not in page and "data-preview" not in page
        assert "preview-bar" not in app.test_client().get(f"/s/{city.office_code}").get_data(
            as_text=True
        )


class TestAccess:
    URLS = [
        ("get", "/admin/surveys"),
        ("get", "/admin/surveys/quick"),
        ("get", "/admin/surveys/quick/1"),
        ("post", "/admin/surveys/quick/copy"),
        ("post", "/admin/surveys/quick/draft"),
        ("get", "/admin/surveys/quick/1/edit"),
        ("post", "/admin/surveys/quick/1/edit"),
        ("post", "/admin/surveys/quick/1/publish"),
        ("post", "/admin/surveys/quick/1/discard"),
        ("get", "/admin/surveys/quick/1/preview/phone"),
        ("get", "/admin/surveys/quick/1/preview/kiosk"),
    ]

    @pytest.mark.parametrize(("role", "scope"), [("manager", "D1"), ("viewer", "O1")])
    def test_managers_and_viewers_are_refused(
        self, client, db, city, make_user, login, role, scope
    ):
        make_user("someone@example.vn", role, scope)
        assert login("someone@example.vn").status_code == 302
        page = client.get("/dashboard").get_data(as_text=True)
        for method, url in self.URLS:
            data = {"csrf_token": csrf_token(page)} if method == "post" else None
            response = getattr(client, method)(url, data=data)
            assert response.status_code == 403, (method, url)
        assert db.scalars(select(Survey)).all().__len__() == 3

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, city):
        for method, url in self.URLS:
            if method == "get":
                response = client.get(url)
                assert response.status_code == 302 and "/login" in response.headers["Location"]

    def test_without_csrf_nothing_changes(self, client, db, city, as_admin):
        as_admin()
        assert client.post("/admin/surveys/quick/draft").status_code == 400
        assert client.post("/admin/surveys/quick/copy", data={"key": "x"}).status_code == 400
        assert len(db.scalars(select(Survey)).all()) == 3

    def test_a_scoped_administrator_publishes_only_what_their_offices_alone_ask(
        self, client, db, city, as_admin
    ):
        as_admin(scope="D1", email="d1@example.vn")
        # Quick is asked in both districts: a district administrator may draft, not publish.
        post(client, "/admin/surveys/quick/draft")
        assert post(client, "/admin/surveys/quick/2/publish").status_code == 403
        # Their own copy, asked nowhere yet, they publish; and once their office asks it, the
        # next version too.
        copy_quick(client)
        assert post(client, "/admin/surveys/quick_o1/1/publish").status_code == 302
        choose_for_office(client)
        post(client, "/admin/surveys/quick_o1/draft")
        assert post(client, "/admin/surveys/quick_o1/2/publish").status_code == 302


def test_domain_copy_keeps_the_source_unchanged_and_starts_a_draft(db, city, make_user):
    admin = make_user(ADMIN, "admin", None)
    copy = survey_admin.copy_survey(
        db, admin, "office_culture", key="culture_d1", name_vi="VHCS", name_en="OC", now=utcnow()
    )
    source = db.scalar(select(Survey).where(Survey.key == "office_culture"))
    assert copy.version == 1 and not copy.is_published
    copied, original = survey_content.draft_input(copy), survey_content.draft_input(source)
    assert copied.questions == original.questions
    assert source.is_published
