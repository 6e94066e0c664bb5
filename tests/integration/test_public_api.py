"""The public contract over HTTP, through the real app, on both databases."""

from tests.conftest import bearer

PROBLEM = "application/problem+json"


async def test_health_names_the_database(client, backend):
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == backend[0]
    assert body["time"].endswith("+07:00")


async def test_units_form_the_province_tree(client):
    tree = (await client.get("/api/v1/units")).json()
    assert len(tree) == 1
    province = tree[0]
    assert province["code"] == "000.00.00.H63" and province["kind"] == "province"
    kinds = [c["kind"] for c in province["children"]]
    assert kinds.count("district") == 9 and kinds.count("center") == 1
    assert kinds.count("department") >= 16
    district = next(c for c in province["children"] if c["kind"] == "district")
    assert district["one_stop"] and any(c["kind"] == "commune" for c in district["children"])
    commune = next(c for c in district["children"] if c["kind"] == "commune")
    assert commune["code"].endswith(".H63") and commune["one_stop_name"].startswith("Bộ phận")
    assert [c["kind"] for c in commune["children"]] == ["commune_agency"]


async def test_catalogue_search_ignores_diacritics(client):
    accented = (await client.get("/api/v1/procedures", params={"q": "khai sinh"})).json()
    plain = (await client.get("/api/v1/procedures", params={"q": "KHAI SINH"})).json()
    assert accented == plain and any(p["code"] == "1.001193" for p in accented)


async def test_catalogue_filters_combine(client):
    everything = (await client.get("/api/v1/procedures")).json()
    assert len(everything) >= 28
    commune_full = (
        await client.get("/api/v1/procedures", params={"level": "commune", "online": "full"})
    ).json()
    assert commune_full and all(p["level"] == "commune" and p["online_level"] == "full" for p in commune_full)
    assert len(commune_full) < len(everything)


async def test_catalogue_filter_by_receiving_unit(client):
    tree = (await client.get("/api/v1/units")).json()
    center = next(c for c in tree[0]["children"] if c["kind"] == "center")
    at_center = (await client.get("/api/v1/procedures", params={"unit": center["code"]})).json()
    assert at_center and all(p["level"] == "province" for p in at_center)


async def test_procedure_detail_carries_the_contract_fields(client):
    response = await client.get("/api/v1/procedures/1.001193")
    assert response.status_code == 200
    p = response.json()
    for field in (
        "code",
        "name",
        "level",
        "online_level",
        "time_limit",
        "fee",
        "units",
        "form_schema",
        "documents",
    ):
        assert field in p, field
    assert p["level"] == "commune" and p["online_level"] == "full"
    assert p["time_limit"]["unit"] == "same_day"
    assert len(p["units"]) > 150  # every commune receives birth registrations
    assert p["form_schema"]["type"] == "object" and "ho_ten_tre" in p["form_schema"]["required"]
    assert set(p["documents"][0]) >= {"key", "name", "required", "originals", "copies"}


async def test_unknown_procedure_is_a_vietnamese_problem_detail(client):
    response = await client.get("/api/v1/procedures/9.999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 404 and "9.999999" in body["detail"] and "thủ tục" in body["detail"]


async def test_unknown_api_path_is_a_vietnamese_problem_detail(client):
    response = await client.get("/api/v1/khong-co")
    assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == "Không tìm thấy trang hoặc tài nguyên được yêu cầu."


async def test_openapi_documents_the_api(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/procedures/{code}" in schema["paths"]
    assert "/api/v1/admin/users" in schema["paths"]
    assert "/thu-tuc" not in schema["paths"]  # pages are not API


async def test_token_for_a_good_password_and_401_otherwise(client):
    headers = await bearer(client, "kiemtra")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["role"] == "auditor"
    wrong = await client.post("/api/v1/auth/token", json={"username": "kiemtra", "password": "sai-mat-khau1"})
    assert wrong.status_code == 401 and wrong.headers["content-type"].startswith(PROBLEM)
    assert wrong.json()["detail"] == "Tên đăng nhập hoặc mật khẩu không đúng."


async def test_malformed_token_request_is_a_400_problem(client):
    response = await client.post("/api/v1/auth/token", json={"username": 12, "password": None})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "không hợp lệ" in response.json()["detail"]
    missing = await client.post("/api/v1/auth/token", json={"username": "admin"})
    assert missing.status_code == 400


async def test_an_invalid_or_foreign_bearer_token_is_refused(client):
    for value in ("Bearer not-a-token", "Basic YWRtaW46YWRtaW4="):
        response = await client.get("/api/v1/me", headers={"Authorization": value})
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_a_typed_phrase_beats_scattered_words(client):
    # "chung thuc" must not bring up "chứng nhận … thực phẩm".
    names = [p["name"] for p in (await client.get("/api/v1/procedures", params={"q": "chung thuc"})).json()]
    assert names and all("thực phẩm" not in n for n in names)
    # Words out of order still find the procedure when no exact phrase exists.
    reordered = (await client.get("/api/v1/procedures", params={"q": "sinh khai"})).json()
    assert any(p["code"] == "1.001193" for p in reordered)
