"""The province's figures recomputed from a hand-built week of one commune, on both databases.

Eight dossiers are driven through the real API with the clock moved by hand (Monday
15/03/2021 to Friday 19/03/2021), then ratings and two complaints are added. The right
answers are worked out here, dossier by dossier, and compared with what the SQL gives:

    A  birth, resolved Mon 09:30, due Mon 17:00 ............ on time; rated "Rất hài lòng"
    B  3-day procedure, resolved Tue, due Thu .............. early
    C  birth, resolved Tue, due Mon ........................ late; rated "Không hài lòng"
                                                             with harassment; two complaints
    D  birth, withdrawn Mon (in time)
    E  birth, received Mon, still open on Friday ........... open, overdue
    F  birth, refused after appraisal on Mon ............... on time (refused)
    G  3-day procedure, apology on Tue, resolved Fri ....... late (an apology means late)
    H  3-day procedure, one supplement, resolved Wed ....... early (clock restarted)
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from app.db.tables import Dossier, DossierStep
from app.domain.clock import VN_TZ
from app.services import rollup
from app.domain.periods import parse_period
from app.services.catalogue import CatalogueService
from app.services.directory import load_directory
from app.services.stats import COUNTS, Scope, StatsService
from procedures.loader import default_catalogue
from tests.conftest import app_client, bearer
from tests.integration.test_dossier_journey import PDF, act, submit_birth

PERIOD = "2021-Q1"


async def _quiet_commune(client, nth: int = -1):
    """A commune at the end of the last district: no other test files dossiers there, and each
    test that builds a week takes its own (the database lives for the whole session)."""
    tree = (await client.get("/api/v1/units")).json()
    district = [c for c in tree[0]["children"] if c["kind"] == "district"][-1]
    return [c for c in district["children"] if c["kind"] == "commune"][nth]


async def _submit_syn(client, headers, unit_code, cccd):
    form = {
        "ho_ten": "Lò Văn Sáng",
        "ngay_sinh": "1990-05-02",
        "so_cccd": cccd,
        "muc_dich": "Đăng ký kết hôn",
        "dien_thoai": "0912345678",
    }
    response = await client.post(
        "/api/v1/dossiers",
        headers=headers,
        data={"procedure_code": "SYN.000001", "unit_code": unit_code, "form": json.dumps(form)},
        files=[("to_khai", ("to-khai.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 201, response.text
    return response.json()["code"]


class People(dict):
    """Bearer headers by role; tokens live 8 hours, so a new day means signing in again."""

    def __init__(self, client, clock, names: dict[str, tuple[str, ...]]):
        super().__init__()
        self.client, self.clock, self.names = client, clock, names

    async def sign_in(self) -> None:
        for role, credentials in self.names.items():
            self[role] = await bearer(self.client, *credentials)

    async def at(self, day: int, hour: int, minute: int = 0) -> None:
        target = datetime(2021, 3, day, hour, minute, tzinfo=VN_TZ)
        assert target >= self.clock.now()
        new_day = target.date() != self.clock.now().date()
        self.clock.advance(target - self.clock.now())
        if new_day or not self:
            await self.sign_in()


async def _week(client, clock, nth: int = -1):
    from app.db.tables import User

    commune = await _quiet_commune(client, nth)
    key, unit = commune["key"], commune["code"]
    citizen_row = await User.select(User.username).where(User.role == "citizen").order_by(User.id).first()
    cccd = citizen_row["username"]
    who = People(
        client,
        clock,
        {
            "citizen": (cccd,),
            "reception": (f"motcua.{key}",),
            "specialist": (f"chuyenvien.{key}",),
            "leader": (f"lanhdao.{key}",),
            "clerk": (f"vanthu.{key}",),
        },
    )
    await who.at(15, 9)
    codes = {}
    for name in "ACDEF":
        codes[name] = (await submit_birth(client, who["citizen"], unit)).json()["code"]
    for name in "BGH":
        codes[name] = await _submit_syn(client, who["citizen"], unit, cccd)
    for name in "ABCDEFGH":
        await act(client, codes[name], who["reception"], "receive")

    await who.at(15, 9, 10)
    await act(client, codes["A"], who["reception"], "forward")
    await who.at(15, 9, 20)
    await act(client, codes["A"], who["specialist"], "forward")
    await who.at(15, 9, 30)
    await act(client, codes["A"], who["leader"], "approve")
    await who.at(15, 9, 40)
    await act(client, codes["A"], who["clerk"], "return_result")
    await who.at(15, 9, 50)
    await act(client, codes["D"], who["citizen"], "withdraw")
    await who.at(15, 9, 55)
    await act(client, codes["D"], who["reception"], "stop")
    await who.at(15, 10)
    await act(client, codes["F"], who["reception"], "forward")
    await who.at(15, 10, 5)
    await act(
        client,
        codes["F"],
        who["specialist"],
        "refuse",
        reasons=["Trẻ đã được đăng ký khai sinh tại nơi khác"],
    )
    await who.at(15, 10, 15)
    await act(client, codes["H"], who["reception"], "forward")
    await who.at(15, 10, 20)
    await act(client, codes["H"], who["specialist"], "request_supplement", reasons=["Tờ khai thiếu chữ ký"])
    await who.at(15, 10, 30)
    await act(client, codes["C"], who["reception"], "forward")
    await who.at(15, 10, 40)
    await act(client, codes["C"], who["specialist"], "forward")
    await who.at(15, 10, 45)
    await act(client, codes["B"], who["reception"], "forward")
    await who.at(15, 10, 50)
    await act(client, codes["G"], who["reception"], "forward")

    await who.at(16, 9)
    await act(client, codes["C"], who["leader"], "approve")
    await who.at(16, 9, 10)
    await act(client, codes["C"], who["clerk"], "return_result")
    await who.at(16, 9, 20)
    await act(client, codes["B"], who["specialist"], "forward")
    await who.at(16, 9, 30)
    await act(client, codes["B"], who["leader"], "approve")
    await who.at(16, 9, 40)
    await act(client, codes["B"], who["clerk"], "return_result")
    await who.at(16, 9, 50)
    supplemented = await client.post(
        f"/api/v1/dossiers/{codes['H']}/supplement",
        headers=who["citizen"],
        files=[("to_khai", ("to-khai-ky.pdf", PDF, "application/pdf"))],
    )
    assert supplemented.json()["appointment_at"] == "2021-03-19T17:00:00+07:00", supplemented.text
    await who.at(16, 10)
    await act(client, codes["G"], who["specialist"], "forward")
    await who.at(16, 10, 10)
    await act(
        client,
        codes["G"],
        who["leader"],
        "apologize",
        reasons=["Cần xác minh thêm"],
        new_due_at="2021-03-22T17:00:00+07:00",
    )

    await who.at(17, 9)
    await act(client, codes["H"], who["specialist"], "forward")
    await who.at(17, 9, 10)
    await act(client, codes["H"], who["leader"], "approve")
    await who.at(17, 9, 20)
    await act(client, codes["H"], who["clerk"], "return_result")
    await who.at(17, 9, 25)
    rated = await client.post(
        f"/api/v1/dossiers/{codes['A']}/rating",
        headers=who["citizen"],
        json={"level": 4, "reception_contacts": 0, "agencies_contacted": 0, "comment": "Nhanh, chu đáo."},
    )
    assert rated.status_code == 200, rated.text
    rated = await client.post(
        f"/api/v1/dossiers/{codes['C']}/rating",
        headers=who["citizen"],
        json={"level": 1, "reception_contacts": 2, "agencies_contacted": 2, "harassment": True},
    )
    assert rated.status_code == 200, rated.text
    await who.at(17, 9, 30)
    first = await client.post(
        "/api/v1/feedback",
        headers=who["citizen"],
        json={
            "dossier_code": codes["C"],
            "subject": "Trả kết quả chậm",
            "body": "Hẹn thứ Hai, thứ Ba mới có.",
        },
    )
    assert first.status_code == 201, first.text
    first = first.json()

    await who.at(18, 9)
    answered = await client.post(
        f"/api/v1/feedback/{first['code']}/answer",
        headers=who["reception"],
        json={"answer": "Xin lỗi ông/bà."},
    )
    assert answered.status_code == 200 and answered.json()["timeliness"] == "early", answered.text
    await who.at(18, 9, 10)
    unhappy = await client.post(
        f"/api/v1/feedback/{first['code']}/satisfaction", headers=who["citizen"], json={"satisfied": False}
    )
    assert unhappy.status_code == 200, unhappy.text
    await who.at(18, 9, 20)
    repeat = await client.post(
        "/api/v1/feedback",
        headers=who["citizen"],
        json={"dossier_code": codes["C"], "subject": "Vẫn chưa thỏa đáng", "body": "Đề nghị xem lại."},
    )
    assert repeat.status_code == 201 and repeat.json()["repeat"] is True

    await who.at(19, 9)
    await act(client, codes["G"], who["leader"], "approve")
    await who.at(19, 9, 10)
    await act(client, codes["G"], who["clerk"], "return_result")
    await who.at(19, 9, 30)
    return commune, codes


def _index2(steps: list[dict]) -> int | None:
    """Art. 13 index 2 for one dossier: any step late → 0, all early → 2, otherwise 1."""
    done = [s["timeliness"] for s in steps if s["finished_at"] is not None]
    if not done:
        return None
    if "late" in done:
        return 0
    return 2 if all(t == "early" for t in done) else 1


def _one_decimal(x: float) -> float:
    return float(int(x * 10 + 0.5)) / 10


@pytest.fixture
async def busy_client(backend, clock):
    """The app with a login rate that a week of sign-ins by five people fits in."""
    async with app_client(clock, login_rate_per_minute=1000) as client:
        yield client


async def test_a_hand_built_week_gives_the_worked_out_figures(busy_client, clock):
    client = busy_client
    commune, codes = await _week(client, clock)
    unit = commune["code"]

    summary = (await client.get("/api/v1/stats/summary", params={"period": PERIOD, "unit": unit})).json()
    total = summary["total"]
    expected = {
        "received": 8,
        "received_online": 8,
        "resolved": 6,  # A B C F G H
        "early": 2,  # B H
        "on_time": 2,  # A F
        "late": 2,  # C, and G (apology)
        "refused": 1,  # F
        "withdrawn": 1,  # D
        "not_received": 0,
        "ended": 7,
        "ended_in_time": 5,  # A B D F H
        "ended_late": 2,
        "open": 1,  # E
        "open_overdue": 1,
        "open_in_time": 0,
        "rated": 2,
        "satisfied": 1,
        "dissatisfied": 1,
    }
    assert {k: total[k] for k in expected} == expected, total
    assert total["online_pct"] == 100.0 and total["satisfaction_pct"] == 50.0
    assert total["in_time_pct"] == 62.5  # (5 ended in time + 0 open in time) / (7 + 1)
    assert (total["early_pct"], total["on_time_pct"], total["late_pct"]) == (33.33, 33.33, 33.33)
    # Minutes from reception to the end: A 30, B 1 470, C 1 440, F 65, G 5 760, H 2 890.
    assert total["average_days"] == round((30 + 1470 + 1440 + 65 + 5760 + 2890) / 1440 / 6, 1) == 1.3

    by_procedure = (
        await client.get(
            "/api/v1/stats/summary", params={"period": PERIOD, "unit": unit, "group": "procedure"}
        )
    ).json()["rows"]
    assert {r["key"]: r["received"] for r in by_procedure} == {"1.001193": 5, "SYN.000001": 3}
    assert (await client.get("/api/v1/stats/summary", params={"period": "2021-Q2", "unit": unit})).json()[
        "total"
    ] is None  # nothing received, ended or open then
    assert (await client.get("/api/v1/stats/summary", params={"period": "2021-Q5"})).status_code == 422
    assert (await client.get("/api/v1/stats/summary", params={"group": "planet"})).status_code == 422

    # --- Circular 01/2018 -----------------------------------------------------------------
    admin = await bearer(client, "admin", __import__("tests.conftest").conftest.ADMIN_PASSWORD)
    assert (await client.get("/api/v1/stats/evaluation", params={"period": PERIOD})).status_code == 401
    evaluation = (
        await client.get("/api/v1/stats/evaluation", params={"period": PERIOD, "unit": unit}, headers=admin)
    ).json()
    [agency] = evaluation["agencies"]
    rows = {
        name: await Dossier.select(Dossier.id).where(Dossier.code == codes[name]).first() for name in "ABCFGH"
    }
    steps = {
        name: await DossierStep.select().where(DossierStep.dossier_id == row["id"]).order_by(DossierStep.id)
        for name, row in rows.items()
    }
    i2 = [_index2(steps[name]) for name in "ABCFGH"]
    assert i2[2] == 0  # C's leader held it overnight
    indices = agency["indices"]
    assert indices["1"] == 1.0  # (1 + 2 + 0 + 1 + 0 + 2) / 6
    assert indices["2"] == _one_decimal(
        sum(x for x in i2 if x is not None) / len([x for x in i2 if x is not None])
    )
    assert indices["3"] == 1.0 and indices["4"] == 1.0  # A: 2, C: 0
    assert indices["7"] == 1.2  # (1 + 2 + 0 + 1 + 1 + 2) / 6 = 1.17
    assert indices["5"] == 2  # every step inside the commune
    assert indices["6"] is None  # no data: left out
    assert indices["8"] == 0  # a repeated complaint
    assert indices["9"] == 0  # online dossiers were late (C, G)
    assert agency["score"] == _one_decimal(1.0 + indices["2"] + 1.0 + 1.0 + 2 + 1.2)
    assert agency["max_score"] == 16 and agency["classification"] in ("Trung bình", "Khá")

    leader = next(o for o in evaluation["officers"] if o["username"] == f"lanhdao.{commune['key']}")
    leader_steps = [s for name in "ABCFGH" for s in steps[name] if s["actor"] == leader["username"]]
    expected_i2 = sum({"early": 2, "on_time": 1, "late": 0}[s["timeliness"]] for s in leader_steps) / len(
        leader_steps
    )
    assert leader["steps"] == len(leader_steps) and leader["indices"]["2"] == _one_decimal(expected_i2)
    assert leader["classification"] in (
        "Hoàn thành 100% nhiệm vụ",
        "Hoàn thành từ 70% đến dưới 100%",
        "Hoàn thành dưới 70%",
    )

    # --- Decision 766 ------------------------------------------------------------------------
    index = (await client.get("/api/v1/stats/index-766", params={"period": PERIOD, "unit": unit})).json()
    indicators = {i["code"]: i for g in index["groups"] for i in g["indicators"]}
    assert indicators["2.1"]["numerator"] == 5 and indicators["2.1"]["denominator"] == 8
    assert indicators["2.1"]["rate_pct"] == 62.5 and indicators["2.1"]["points"] == 12.5
    assert indicators["3.3"]["rate_pct"] == 100.0 and indicators["3.3"]["points"] == 6
    assert indicators["4.1"]["denominator"] == 5 and indicators["4.1"]["points"] == 0  # nothing signed
    assert indicators["5.1"]["rate_pct"] == 100.0  # the answer came early; the repeat is not due yet
    assert indicators["5.2"]["rate_pct"] == 0.0  # one unsatisfied, one repeated
    # 100 % − (2 late + 1 disliked-or-complained) / 7 ended = 57.14 %; full points from 90 %.
    assert indicators["5.3"]["rate_pct"] == 57.14 and indicators["5.3"]["points"] == round(
        6 * (4 / 7) / 0.9, 2
    )
    for code in ("1.1", "1.2", "1.4", "4.3", "4.4"):
        assert indicators[code]["available"] is False  # needs outside data: never invented
    assert indicators["3.6"]["denominator"] == 0 and indicators["3.6"]["points"] is None  # no fees
    assert sum(g["max_points"] for g in index["groups"]) == 100

    # --- the rollup ------------------------------------------------------------------------
    # Kept change by change, it equals the one recomputed from the tables.
    assert await rollup.differences() == {"stats_month": 0, "stats_officer_month": 0}
    # Once the quarter is over, "open" and "overdue" are the balances at its end (E), taken
    # from the rollup rather than from the dossiers open now; the flows do not move.
    clock.set(datetime(2021, 4, 5, 9, 0, tzinfo=VN_TZ))
    closed = (await client.get("/api/v1/stats/summary", params={"period": PERIOD, "unit": unit})).json()
    assert {k: closed["total"][k] for k in expected} == expected, closed["total"]
    march = (await client.get("/api/v1/stats/summary", params={"period": "2021-03", "unit": unit})).json()
    assert {k: march["total"][k] for k in expected} == expected
    february = (await client.get("/api/v1/stats/summary", params={"period": "2021-02", "unit": unit})).json()
    assert february["total"] is None  # nothing yet, nothing open
    # The trend carries the same balances month to month.
    directory = await load_directory(fresh=True)
    stats = StatsService(clock, directory, CatalogueService(default_catalogue(), directory))
    trend = {m["period"]: m for m in await stats.trend(parse_period("2021"), Scope(unit=unit))}
    assert list(trend) == ["2021-01", "2021-02", "2021-03", "2021-04"]  # up to the clock's month
    assert {k: trend["2021-03"][k] for k in expected} == expected
    assert (trend["2021-04"]["received"], trend["2021-04"]["open"], trend["2021-04"]["open_overdue"]) == (
        0,
        1,
        1,
    )


async def _through_to_result(client, code: str, key: str) -> None:
    """Receive, process, approve and return the result of a birth registration at commune ``key``."""
    reception = await bearer(client, f"motcua.{key}")
    await act(client, code, reception, "receive")
    await act(client, code, reception, "forward")
    await act(client, code, await bearer(client, f"chuyenvien.{key}"), "forward")
    await act(client, code, await bearer(client, f"lanhdao.{key}"), "approve")
    await act(client, code, await bearer(client, f"vanthu.{key}"), "return_result")


async def test_ratings_are_once_changeable_for_a_week_and_audited(busy_client, clock):
    client = busy_client
    from tests.integration.test_dossier_journey import _citizen, _commune

    _, citizen = await _citizen(client)
    commune = await _commune(client)
    key = commune["key"]
    reception = await bearer(client, f"motcua.{key}")
    code = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    early = await client.post(f"/api/v1/dossiers/{code}/rating", headers=citizen, json={"level": 4})
    assert early.status_code == 409  # not finished yet
    await _through_to_result(client, code, key)

    for bad in ({"level": 7}, {"level": 3, "agencies_contacted": 5}, {"level": 3, "comment": "x" * 2001}):
        answer = await client.post(f"/api/v1/dossiers/{code}/rating", headers=citizen, json=bad)
        assert answer.status_code == 422 and answer.json()["errors"], bad
    assert (
        await client.post(f"/api/v1/dossiers/{code}/rating", headers=citizen, json={"level": "cao"})
    ).status_code == 400
    assert (
        await client.post(f"/api/v1/dossiers/{code}/rating", headers=reception, json={"level": 2})
    ).status_code == 200  # a paper form keyed in at the counter
    clash = await client.post(f"/api/v1/dossiers/{code}/rating", headers=citizen, json={"level": 4})
    assert clash.status_code == 409  # one rating per dossier: the paper one stands

    other = (await submit_birth(client, citizen, commune["code"])).json()["code"]
    await _through_to_result(client, other, key)
    first = await client.post(f"/api/v1/dossiers/{other}/rating", headers=citizen, json={"level": 2})
    assert first.status_code == 200 and first.json()["source"] == "online"
    clock.advance(timedelta(days=2))
    username, citizen = await _citizen(client)  # a new day, a new sign-in
    changed = await client.post(f"/api/v1/dossiers/{other}/rating", headers=citizen, json={"level": 3})
    assert changed.json()["level"] == 3 and changed.json()["revisions"] == 1
    clock.advance(timedelta(days=6))
    username, citizen = await _citizen(client)
    late = await client.post(f"/api/v1/dossiers/{other}/rating", headers=citizen, json={"level": 4})
    assert late.status_code == 409 and "7 ngày" in late.json()["detail"]
    stranger = await bearer(client, f"motcua.{(await _quiet_commune(client))['key']}")
    assert (
        await client.post(f"/api/v1/dossiers/{other}/rating", headers=stranger, json={"level": 1})
    ).status_code == 403
    history = (await client.get(f"/api/v1/dossiers/{other}", headers=citizen)).json()["history"]
    assert [e["action"] for e in history if e["action"].startswith("rating.")] == [
        "rating.create",
        "rating.update",
    ]


async def test_the_pages_downloads_and_report_show_the_same_numbers(busy_client, clock):
    import csv
    import io

    import openpyxl
    from cryptography import x509

    from signing.verify import Indication, verify_pdf
    from tests.conftest import ADMIN_PASSWORD, browser_login

    client = busy_client
    commune, codes = await _week(client, clock, nth=-2)
    unit = commune["code"]
    params = {"period": PERIOD, "group": "unit", "level": "commune"}
    api = (await client.get("/api/v1/stats/summary", params=params)).json()
    ours = next(r for r in api["rows"] if r["key"] == unit)

    page = await client.get("/thong-ke", params=params)
    assert page.status_code == 200 and "Quý 1 năm 2021" in page.text and "<svg" in page.text
    row = page.text.split(f'<th scope="row">{commune["name"]}</th>', 1)[1].split("</tr>", 1)[0]
    assert "<td>8</td>" in row and "2 (33,33%)" in row and "62,5%" in row  # 766 rate, Vietnamese decimals

    table = list(
        csv.DictReader(
            io.StringIO((await client.get("/thong-ke/tai-ve.csv", params=params)).text.lstrip("\ufeff"))
        )
    )
    mine = next(r for r in table if r["Đơn vị / nhóm"] == commune["name"])
    assert (mine["Tiếp nhận"], mine["Trễ hạn"], mine["Đúng hạn theo 766 (%)"]) == ("8", "2", "62.5")
    book = openpyxl.load_workbook(
        io.BytesIO((await client.get("/thong-ke/tai-ve.xlsx", params=params)).content)
    )
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == commune["name"])
    assert cells[header.index("Đã giải quyết")] == ours["resolved"] == 6
    assert cells[header.index("Hài lòng (%)")] == 50.0

    # The officer's own unit, and the steering committee's province view.
    officer = await browser_login(client, f"lanhdao.{commune['key']}")
    assert officer.status_code == 303
    mine = await client.get("/thong-ke/don-vi", params={"period": PERIOD})
    assert mine.status_code == 200 and commune["name"] in mine.text and "Chỉ số 9" in mine.text
    assert (await client.get("/thong-ke/tinh")).status_code == 403
    await client.post("/dang-xuat", data={"_csrf_token": client.cookies.get("portal_csrf")})
    client.cookies.clear()
    assert (await browser_login(client, "admin", ADMIN_PASSWORD)).status_code == 303
    province = await client.get("/thong-ke/tinh", params={"period": PERIOD})
    assert (
        province.status_code == 200 and "Bộ chỉ số 766" in province.text and commune["name"] in province.text
    )
    ranking = openpyxl.load_workbook(
        io.BytesIO((await client.get("/thong-ke/tinh/xep-hang.xlsx", params={"period": PERIOD})).content)
    )
    assert ranking.worksheets[0]["A1"].value == "Hạng"

    # The quarterly report: JSON as the API, PDF sealed by the provincial office.
    report = (await client.get("/thong-ke/bao-cao.json", params={"period": PERIOD})).json()
    assert (
        report["summary"]
        == (await client.get("/api/v1/stats/summary", params={"period": PERIOD})).json()["total"]
    )
    # Its trend, month by month, is each month's own summary (March still running).
    assert [m["period"] for m in report["trend"]] == ["2021-01", "2021-02", "2021-03"]
    for month in report["trend"]:
        alone = (await client.get("/api/v1/stats/summary", params={"period": month["period"]})).json()[
            "total"
        ]
        assert {k: month[k] for k in COUNTS} == {k: (alone or {}).get(k, 0) for k in COUNTS}, month["period"]
    assert sum(m["received"] for m in report["trend"]) == report["summary"]["received"] > 0
    pdf = await client.get("/thong-ke/bao-cao.pdf", params={"period": PERIOD})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    verdict = await verify_pdf(pdf.content, [root], now=clock.now())
    assert verdict.indication is Indication.TOTAL_PASSED, verdict.as_dict()
    assert verdict.signatures[0].is_seal and verdict.signatures[0].signer.startswith("Văn phòng")


async def test_portal_report_writes_the_sealed_pdf_and_the_same_json(busy_client, backend, clock, tmp_path):
    if backend[0] != "sqlite":
        pytest.skip("the command reads the SQLite test database through DATABASE_URL")
    import os
    import sys
    from pathlib import Path

    from cryptography import x509

    from app.db.engine import current_engine
    from signing.verify import Indication, verify_pdf
    from tests.conftest import KEK

    client = busy_client
    await _week(client, clock, nth=-3)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{current_engine().path}",
        "PORTAL_KEY_ENCRYPTION_KEY": KEK,
        "PORTAL_CLOCK_START": clock.now().isoformat(),
    }
    portal = str(Path(sys.executable).parent / "portal")
    # The statistics' rollup kept by the week's changes is the one the dossiers give.
    for args, said in ((["rollup"], "khớp"), (["rollup", "--rebuild"], "Đã tính lại"), (["rollup"], "khớp")):
        done = await asyncio.create_subprocess_exec(portal, *args, env=env, stdout=asyncio.subprocess.PIPE)
        assert await done.wait() == 0 and said in (await done.stdout.read()).decode(), args
    out = tmp_path / "bao-cao" / "quy-1.pdf"
    done = await asyncio.create_subprocess_exec(
        portal, "report", "--period", PERIOD, "--out", str(out), env=env, stdout=asyncio.subprocess.PIPE
    )
    printed = (await done.communicate())[0].decode()
    assert done.returncode == 0, printed
    api = (await client.get("/api/v1/stats/summary", params={"period": PERIOD})).json()["total"]
    written = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert written["summary"] == api and api["received"] >= 8
    assert f"Tiếp nhận {api['received']} hồ sơ" in printed and "quý 1 năm 2021" in printed
    root = x509.load_der_x509_certificate((await client.get("/pki/root.crt")).content)
    verdict = await verify_pdf(out.read_bytes(), [root], now=clock.now())
    assert verdict.indication is Indication.TOTAL_PASSED and verdict.signatures[0].is_seal

    wrong = await asyncio.create_subprocess_exec(
        portal, "report", "--period", "2021-Q5", env=env, stderr=asyncio.subprocess.PIPE
    )
    complaint = (await wrong.communicate())[1].decode()
    assert wrong.returncode == 2 and "2021-Q3" in complaint


async def test_rating_and_feedback_through_the_pages(busy_client, clock):
    """What a citizen and the unit's officers do in the browser: rate a finished dossier (and
    a paper form at the counter), file a complaint, assign and answer it, rate the answer."""
    from app.db.tables import AuditEvent
    from tests.conftest import browser_login
    from tests.integration.test_dossier_journey import _citizen

    client = busy_client
    commune = await _quiet_commune(client, -4)
    key = commune["key"]
    cccd, citizen = await _citizen(client)
    mine, other = [(await submit_birth(client, citizen, commune["code"])).json()["code"] for _ in range(2)]
    page = lambda: client.get(f"/ho-so/{mine}")  # noqa: E731

    def csrf() -> str:
        return client.cookies.get("portal_csrf")

    assert (await browser_login(client, cccd)).status_code == 303
    assert "Gửi đánh giá" not in (await page()).text  # not finished: nothing to rate yet
    await _through_to_result(client, mine, key)
    await _through_to_result(client, other, key)
    assert "Gửi đánh giá" in (await page()).text
    missing = await client.post(f"/ho-so/{mine}/danh-gia", data={"_csrf_token": csrf()})
    assert missing.status_code == 303 and "loi=" in missing.headers["location"]
    rated = await client.post(
        f"/ho-so/{mine}/danh-gia",
        data={
            "_csrf_token": csrf(),
            "level": "3",
            "reception_contacts": "1",
            "agencies_contacted": "1",
            "comment": "Cán bộ hướng dẫn tận tình",
        },
    )
    assert rated.status_code == 303 and "thong_bao=" in rated.headers["location"]
    shown = (await page()).text
    assert "<strong>Hài lòng</strong>" in shown and "Sửa đánh giá" in shown and "tận tình" in shown
    rating = (await client.get(f"/api/v1/dossiers/{mine}/rating", headers=citizen)).json()
    assert (rating["level"], rating["reception_contacts"], rating["source"]) == (3, 1, "online")

    # A complaint about the dossier, filed from its page; a blank one is refused and kept.
    form = await client.get("/phan-anh/gui", params={"ho_so": mine})
    assert form.status_code == 200 and mine in form.text
    blank = await client.post(
        "/phan-anh/gui", data={"_csrf_token": csrf(), "dossier_code": mine, "subject": "Chậm trả"}
    )
    assert blank.status_code == 400 and "Nhập nội dung" in blank.text and "Chậm trả" in blank.text
    filed = await client.post(
        "/phan-anh/gui",
        data={
            "_csrf_token": csrf(),
            "dossier_code": mine,
            "subject": "Chậm trả",
            "body": "Tôi phải đến hai lần mới nhận được kết quả.",
        },
    )
    assert filed.status_code == 303
    code = filed.headers["location"].split("/phan-anh/")[1].split("?")[0]
    assert code.startswith("PAKN-") and "Đang xử lý" in (await client.get(f"/phan-anh/{code}")).text
    await client.post("/dang-xuat", data={"_csrf_token": csrf()})
    client.cookies.clear()

    # The counter keys in a paper form for the other dossier, then answers the complaint.
    assert (await browser_login(client, f"motcua.{key}")).status_code == 303
    paper = await client.post(f"/ho-so/{other}/danh-gia", data={"_csrf_token": csrf(), "level": "4"})
    assert paper.status_code == 303 and "thong_bao=" in paper.headers["location"]
    assert "Phiếu giấy nhập tại Bộ phận Một cửa" in (await client.get(f"/ho-so/{other}")).text
    assert code in (await client.get("/phan-anh")).text
    assigned = await client.post(
        f"/phan-anh/{code}/phan-cong", data={"_csrf_token": csrf(), "username": f"chuyenvien.{key}"}
    )
    assert "thong_bao=" in assigned.headers["location"]
    wrong = await client.post(
        f"/phan-anh/{code}/phan-cong", data={"_csrf_token": csrf(), "username": "admin"}
    )
    assert "loi=" in wrong.headers["location"]
    answered = await client.post(
        f"/phan-anh/{code}/tra-loi", data={"_csrf_token": csrf(), "answer": "Đơn vị xin tiếp thu."}
    )
    assert "thong_bao=" in answered.headers["location"]
    again = await client.post(f"/phan-anh/{code}/tra-loi", data={"_csrf_token": csrf(), "answer": "Lần hai"})
    assert "loi=" in again.headers["location"]  # a second click changes nothing
    await client.post("/dang-xuat", data={"_csrf_token": csrf()})
    client.cookies.clear()

    assert (await browser_login(client, cccd)).status_code == 303
    detail = (await client.get(f"/phan-anh/{code}")).text
    assert "Đơn vị xin tiếp thu." in detail and "Lần hai" not in detail and "Ông/bà có hài lòng" in detail
    await client.post(f"/phan-anh/{code}/danh-gia", data={"_csrf_token": csrf(), "satisfied": "1"})
    assert "Công dân hài lòng với câu trả lời." in (await client.get(f"/phan-anh/{code}")).text
    actions = [
        r["action"]
        for r in await AuditEvent.select(AuditEvent.action)
        .where(AuditEvent.object_id.is_in([code, mine, other]))
        .order_by(AuditEvent.seq)
    ]
    for expected in (
        "rating.create",
        "feedback.file",
        "feedback.assign",
        "feedback.answer",
        "feedback.satisfaction",
    ):
        assert expected in actions
