"""Figures that are right: scales and versions never pooled, reasons split, minimums kept."""

import re
import uuid

import pytest

from surveys.defaults import QUICK, build_quick
from surveys.models import Survey, Target


def post(client, target, overall, **answers):
    response = client.post(
        "/api/v1/responses",
        json={
            "id": str(uuid.uuid4()),
            "target": target,
            "answers": {"overall": overall, **answers},
        },
    )
    assert response.status_code == 201, response.json


def summary(client, make_token, scope="O1"):
    token = make_token(scope=scope)
    response = client.get(
        "/api/v1/offices/O1/summary", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    return response.json


def test_three_and_five_level_answers_are_never_added_together(client, city, make_token):
    # Quick survey (3 levels) on the counter: "satisfied" is the middle of three, score 50.
    for answer in ["satisfied"] * 8 + ["not_satisfied"] * 2:
        post(client, "COUNTR1", answer)
    # Office culture (5 levels) on the officer: "satisfied" is second of five, score 75.
    for answer in ["satisfied"] * 6 + ["neutral"] * 4:
        post(client, "OFFICR1", answer)
    data = summary(client, make_token)

    # The rate is comparable across scales and pooled, with its n: 14 positive out of 20.
    assert data["satisfaction"]["n"] == 20 and data["satisfaction"]["rate"] == 0.7
    overall = data["questions"]["overall"]
    assert overall["n"] == 20 and overall["rate"] == 0.7
    # No single count list or mean across the two scales.
    assert overall["counts"] == {} and overall["mean_score"] is None
    versions = {(v["survey"], v["version"]): v for v in overall["versions"]}
    quick, culture = versions[("quick", 1)], versions[("office_culture", 1)]
    assert (quick["levels"], culture["levels"]) == (3, 5)
    assert quick["counts"] == {"very_satisfied": 0, "satisfied": 8, "not_satisfied": 2}
    assert quick["mean_score"] == 40.0  # (8·50 + 2·0) / 10
    assert culture["counts"] == {
        "very_satisfied": 0,
        "satisfied": 6,
        "neutral": 4,
        "not_satisfied": 0,
        "very_dissatisfied": 0,
    }
    assert culture["mean_score"] == 65.0  # (6·75 + 4·50) / 10
    assert quick["rate"] == 0.8 and culture["rate"] == 0.6


def test_two_versions_of_one_survey_stay_apart(client, db, city, make_token):
    newer = build_quick()
    newer.version = 2
    db.add(newer)
    db.flush()
    db.get(Target, db.query(Target.id).filter_by(code="OFFICE1").scalar()).survey_id = newer.id
    db.commit()
    for _ in range(10):
        post(client, "COUNTR1", "very_satisfied")
        post(client, "OFFICE1", "satisfied")
    overall = summary(client, make_token)["questions"]["overall"]
    assert overall["n"] == 20 and overall["counts"] == {}
    assert [(v["survey"], v["version"], v["n"]) for v in overall["versions"]] == [
        (QUICK, 1, 10),
        (QUICK, 2, 10),
    ]
    assert db.query(Survey).filter_by(key=QUICK).count() == 2


def test_one_version_keeps_its_count_list_and_mean(client, city, make_token):
    for answer in ["very_satisfied"] * 7 + ["satisfied"] * 3:
        post(client, "COUNTR1", answer)
    overall = summary(client, make_token)["questions"]["overall"]
    assert overall["counts"] == {"very_satisfied": 7, "satisfied": 3, "not_satisfied": 0}
    assert overall["mean_score"] == 85.0


def test_process_reasons_are_not_charged_to_the_officer(client, city, make_token):
    post(client, "COUNTR1", "not_satisfied", reasons=["procedure", "attitude"])
    post(client, "OFFICR1", "not_satisfied", reasons=["facilities", "attitude", "harassment"])
    reasons = summary(client, make_token)["reasons"]
    assert reasons["attitude"] == {"n": 2, "charged_to_officer": True}
    assert reasons["harassment"] == {"n": 1, "charged_to_officer": True}
    assert reasons["procedure"] == {"n": 1, "charged_to_officer": False}
    assert reasons["facilities"] == {"n": 1, "charged_to_officer": False}


@pytest.mark.parametrize("ratings,shown", [(29, False), (30, True)])
def test_officer_figures_need_thirty_ratings(client, city, make_token, ratings, shown):
    for _ in range(ratings):
        post(client, "OFFICR1", "very_satisfied")
    data = summary(client, make_token)
    (officer,) = data["officers"]
    assert officer["code"] == "CB1" and officer["n"] == ratings
    assert (officer["rate"] is not None) is shown
    # The counter (and the office) need only ten.
    (counter,) = data["counters"]
    assert counter["code"] == "O1-Q1" and counter["rate"] == 1.0


def test_office_page_lists_each_version_apart_and_says_not_enough_data(
    client, city, make_user, login
):
    make_user()
    for _ in range(10):
        post(client, "COUNTR1", "satisfied")
    for _ in range(12):
        post(client, "OFFICR1", "satisfied")
    login()
    html = client.get("/dashboard/offices/O1").get_data(as_text=True)
    captions = re.findall(r"<caption>([^<]*)</caption>", html)
    assert "Đánh giá nhanh, phiên bản 1" in captions
    assert "Văn hóa công sở, phiên bản 1" in captions
    officers = re.search(r"<caption>Theo cán bộ</caption>.*?</table>", html, re.S).group(0)
    assert "Nguyễn Thị Lan" in officers and "chưa đủ dữ liệu" in officers
    counters = re.search(r"<caption>Theo quầy</caption>.*?</table>", html, re.S).group(0)
    assert "chưa đủ dữ liệu" not in counters and "100" in counters
    # Mean scores with the Vietnamese decimal comma: 50,0 on the 3-level, 75,0 on the 5-level.
    assert "50,0" in html and "75,0" in html
