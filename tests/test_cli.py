"""The command-line interface of the contract, through Flask's CLI runner."""

import os
import re
import subprocess
from pathlib import Path

from sqlalchemy import case, func, select

from surveys import accounts, demo
from surveys.db import utcnow
from surveys.models import Counter, KioskDevice, Office, Officer, Response, Target, Unit


def test_db_upgrade_is_repeatable(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "head" in result.output


def test_seed_demo_builds_a_city_once(runner, db):
    result = runner.invoke(args=["seed-demo", "--responses", "300", "--days", "14"])
    assert result.exit_code == 0, result.output
    assert db.scalar(select(func.count()).select_from(Unit)) >= 3
    assert db.scalar(select(func.count()).select_from(Office)) >= 10
    assert db.scalar(select(func.count()).select_from(Counter)) >= 10
    assert db.scalar(select(func.count()).select_from(Officer)) >= 10
    assert db.scalar(select(func.count()).select_from(Response)) == 300
    kinds = set(db.scalars(select(Target.kind).distinct()))
    assert kinds == {"office", "counter", "officer"}
    pairing = re.search(r"(http://kiosk\.test/kiosk/pair/\S+)", result.output)
    phone = re.search(r"http://kiosk\.test/s/(\w+)", result.output)
    assert pairing and phone and "hoankiem@hailong.demo" in result.output
    assert re.search(r"/kiosk/pair on the tablet and type \d{4} \d{4}", result.output)
    assert db.scalar(select(Target).where(Target.code == phone.group(1))).is_active

    again = runner.invoke(args=["seed-demo", "--responses", "300"])
    assert again.exit_code == 0 and "kept" in again.output
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Response)) == 300


def test_demo_responses_vary_by_office(runner, db):
    runner.invoke(args=["seed-demo", "--responses", "4000", "--days", "30"])
    satisfied = func.avg(case((Response.headline_polarity == 1, 1.0), else_=0.0))
    rates = dict(
        db.execute(
            select(Office.code, satisfied)
            .join(Response, Response.office_id == Office.id)
            .group_by(Office.code)
        ).all()
    )
    assert rates["HK-HTR"] > rates["CG-ND"] + 0.1


def test_create_user_reads_the_password_from_stdin(runner, db, city):
    result = runner.invoke(
        args=["create-user", "Lan@Example.vn", "--role", "manager", "--scope", "D1"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(db, "lan@example.vn", "a long enough password", now=utcnow())


def test_create_user_errors_are_clear(runner, city):
    result = runner.invoke(
        args=["create-user", "x@example.vn", "--role", "manager", "--scope", "NOPE"],
        input="a long enough password\n",
    )
    assert result.exit_code != 0 and "NOPE" in result.output
    result = runner.invoke(args=["create-user", "x@example.vn", "--role", "admin"], input="short\n")
    assert result.exit_code != 0 and "password" in result.output


def test_create_token_prints_a_working_token_last(runner, client, city, make_user):
    make_user(scope="O1")
    result = runner.invoke(args=["create-token", "manager@example.vn"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    response = client.get("/api/v1/offices", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json[0]["code"] == "O1"


def test_enroll_kiosk_prints_a_pairing_url_last(runner, client, city):
    result = runner.invoke(args=["enroll-kiosk", "O1-Q1"])
    assert result.exit_code == 0
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("http://kiosk.test/kiosk/pair/")
    assert client.get(url.removeprefix("http://kiosk.test")).status_code == 200


def test_enroll_kiosk_token_posts_for_its_counter(runner, client, db, city):
    result = runner.invoke(args=["enroll-kiosk", "O1-Q1", "--token"])
    token = result.output.strip().splitlines()[-1]
    assert db.scalar(select(func.count()).select_from(KioskDevice)) == 1
    import uuid

    response = client.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "target": "COUNTR1", "answers": {"overall": "satisfied"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_enroll_unknown_counter_fails_clearly(runner, city):
    result = runner.invoke(args=["enroll-kiosk", "NOPE"])
    assert result.exit_code != 0 and "counter" in result.output.lower()


def test_demo_officers_have_names_of_one_gender(runner, db):
    runner.invoke(args=["seed-demo"])
    female_middle, female_given = demo.NAMES["female"]
    male_middle, male_given = demo.NAMES["male"]
    names = db.scalars(select(Officer.name)).all()
    assert len(names) >= 10
    for name in names:
        family, middle, given = name.split(" ")
        assert family in demo.FAMILY
        assert (middle in female_middle and given in female_given) or (
            middle in male_middle and given in male_given
        ), name
    assert not {"Thị", "Văn"} & set(female_middle) & set(male_middle)


def test_seed_demo_names_the_counter_and_replaces_the_code_it_printed_before(runner, client, db):
    first = runner.invoke(args=["seed-demo"])
    assert "Kiosk of Quầy số 1, Bộ phận một cửa quận Hoàn Kiếm (HK-1C-Q1):" in first.output
    assert "replaces" not in first.output
    first_link = re.search(r"http://kiosk\.test(/kiosk/pair/\S+)", first.output).group(1)
    assert client.get(first_link).status_code == 200

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "this replaces the pairing code and URL printed before" in second.output
    second_link = re.search(r"http://kiosk\.test(/kiosk/pair/\S+)", second.output).group(1)
    assert client.get(first_link).status_code == 410
    assert client.get(second_link).status_code == 200


def make_run_commands(*args: str, **env: str) -> str:
    """Return the commands `make run` would run (make -n), with this environment."""
    environ = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"} | env
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_run_serves_where_it_is_told_and_prints_matching_urls():
    default = make_run_commands()
    assert "PUBLIC_BASE_URL='http://127.0.0.1:5000'" in default
    assert "--host '127.0.0.1' --port '5000'" in default

    other = make_run_commands("PORT=8123")
    assert "PUBLIC_BASE_URL='http://127.0.0.1:8123'" in other
    assert "Serving on http://127.0.0.1:8123" in other and "--port '8123'" in other

    # The whole network: the URLs name this machine, which a tablet can open, not 0.0.0.0.
    lan = make_run_commands("HOST=0.0.0.0", "PORT=8124")
    assert "--host '0.0.0.0' --port '8124'" in lan
    assert "PUBLIC_BASE_URL='http://0.0.0.0" not in lan
    assert re.search(r"PUBLIC_BASE_URL='http://[\w.:-]+:8124'", lan)

    # A public address set by the operator wins (a reverse proxy in front, for instance).
    proxied = make_run_commands("PORT=8125", PUBLIC_BASE_URL="https://hailong.example.vn")
    assert "PUBLIC_BASE_URL='https://hailong.example.vn'" in proxied
    assert "--port '8125'" in proxied
