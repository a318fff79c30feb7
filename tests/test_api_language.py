"""API errors speak the request's language (Vietnamese by default); their codes never change."""


def test_probe(client, city, make_token):
    token = make_token()
    for lang in (None, "vi", "en", "fr"):
        headers = {"Authorization": f"Bearer {token}"}
        if lang:
            headers["Accept-Language"] = lang
        r = client.get("/api/v1/offices/O2/summary", headers=headers)
        print(lang, r.status_code, r.json)
        r = client.post("/api/v1/responses", json={"id": "x"}, headers=headers)
        print(lang, r.status_code, r.json)
        r = client.get("/api/v1/nothing", headers=headers)
        print(lang, r.status_code, r.json)
        r = client.get("/api/v1/admin/units", headers=headers)
        print(lang, r.status_code, r.json)
