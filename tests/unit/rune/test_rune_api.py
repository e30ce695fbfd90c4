"""The rune service over HTTP (httpx ASGITransport, lifespan run by asgi_lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from services.rune.main import make_app
from shared.ratelimit import RateLimitSettings
from shared.settings import Settings

GLYPHS = {chr(c) for c in range(0x16A0, 0x1700)}
MEAT_AND_FISH = {"beef", "venison", "lamb", "pork", "trout", "cod", "mussels"}


def _app() -> FastAPI:
    # route tests, not rate-limit tests: the anonymous tier (50 per 15 min) would cut the longer ones short
    return make_app(Settings(env="test"), ratelimit=RateLimitSettings(enabled=False))


async def _client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://rune.test") as c:
            yield c


@pytest.fixture
async def client() -> AsyncIterator[AsyncClient]:
    async for c in _client(_app()):
        yield c


def _field(r: Any) -> str:
    body = r.json()
    assert r.status_code == 422, body
    assert body["error"] == "VALIDATION_ERROR"
    field: str = body["details"][0]["field"]
    assert field in body["message"]
    return field


# ── ops ──────────────────────────────────────────────────────────────────────────────────────────────


async def test_health_and_ready(client: AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200 and r.json()["service"] == "rune"
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"rune_data": "ok"}


# ── daily ────────────────────────────────────────────────────────────────────────────────────────────


async def test_daily_shape(client: AsyncClient) -> None:
    r = await client.get("/rune/daily", params={"date": "2025-03-14", "tz": "Europe/Oslo"})
    assert r.status_code == 200
    body = r.json()
    rune = body["rune"]
    assert set(rune) >= {
        "name",
        "symbol",
        "meaning",
        "element",
        "planet",
        "aett",
        "transliteration",
        "keywords",
    }
    assert rune["reversed"] is False and rune["symbol"] in GLYPHS
    assert body["symbol"] == rune["symbol"] and body["meaning"] == rune["meaning"]
    assert body["date"] == "2025-03-14" and body["timezone"] == "Europe/Oslo"
    assert body["sky"]["day_ruler"] == "Venus"  # a Friday
    assert set(body["sky"]) >= {"moon_sign", "moon_element", "moon_phase"}
    assert abs(sum(body["recommended_elements"].values()) - 1) < 1e-9
    assert body["culinary_guidance"]
    items = body["recommended_ingredients"]
    assert 3 <= len(items) <= 6 and all(set(i) == {"slug", "name", "category"} for i in items)
    names = [c["name"] for c in body["rule"]["candidates"]]
    assert rune["name"] in names and "SHA-256" in body["rule"]["description"]


async def test_daily_same_across_calls_and_instances() -> None:
    params = {"date": "2025-07-04", "tz": "America/Chicago"}
    bodies = []
    for _ in range(2):
        async for c in _client(_app()):
            first = (await c.get("/rune/daily", params=params)).json()
            second = (await c.get("/rune/daily", params={**params, "lat": 41.88, "lon": -87.63})).json()
            assert first["rune"] == second["rune"]
            bodies.append(first)
    assert bodies[0]["rune"] == bodies[1]["rune"] and bodies[0]["rule"] == bodies[1]["rule"]


async def test_daily_changes_with_date_and_user(client: AsyncClient) -> None:
    names = set()
    for day in range(1, 29):
        r = await client.get("/rune/daily", params={"date": f"2025-02-{day:02d}", "tz": "UTC"})
        names.add(r.json()["rune"]["name"])
    assert len(names) >= 8
    users = set()
    for i in range(30):
        r = await client.get("/rune/daily", params={"date": "2025-02-01", "tz": "UTC", "user_id": f"u{i}"})
        assert r.json()["user_id"] == f"u{i}" and r.json()["rule"]["personalised"] is True
        users.add(r.json()["rune"]["name"])
    assert len(users) > 1


async def test_daily_defaults_to_today_in_default_zone(client: AsyncClient) -> None:
    body = (await client.get("/rune/daily")).json()
    assert body["timezone"] == "America/New_York"
    assert body["location"] == {"latitude": 40.7128, "longitude": -74.006, "affects_rune": False}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"date": "2025-13-01"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"date": "1700-01-01"}, "date"),
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": 10, "lon": -181}, "lon"),
        ({"lat": 10}, "lon"),
        ({"lat": "abc", "lon": 1}, "lat"),
        ({"user_id": "x" * 200}, "user_id"),
    ],
)
async def test_daily_422_names_field(client: AsyncClient, params: dict[str, Any], field: str) -> None:
    assert _field(await client.get("/rune/daily", params=params)) == field


async def test_culinary_guidance_matches_daily(client: AsyncClient) -> None:
    params = {"date": "2025-10-31", "tz": "Europe/Dublin"}
    daily = (await client.get("/rune/daily", params=params)).json()
    culinary = (await client.get("/guidance/culinary", params=params)).json()
    assert culinary["rune"] == daily["rune"] and culinary["culinary_guidance"] == daily["culinary_guidance"]
    assert culinary["element_advice"] and culinary["cooking_methods"]


# ── cast ─────────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("count", "positions"), [(1, ["focus"]), (3, ["past", "present", "future"]), (9, None)]
)
async def test_cast_shape(client: AsyncClient, count: int, positions: list[str] | None) -> None:
    r = await client.post("/rune/cast", json={"count": count})
    assert r.status_code == 200
    body = r.json()
    assert body["seeded"] is False and body["count"] == count
    runes = body["runes"]
    assert len(runes) == count and len({x["rune"]["name"] for x in runes}) == count
    if positions:
        assert [x["position"] for x in runes] == positions
    else:
        assert [x["position"] for x in runes][0] == "asgard" and runes[-1]["position"] == "helheim"
    for item in runes:
        assert item["reversed"] is item["rune"]["reversed"]
        assert not item["reversed"] or item["rune"]["reversible"]
        assert item["meaning"] and item["culinary_guidance"]
    assert abs(sum(body["elemental_emphasis"].values()) - 1) < 1e-3
    assert body["culinary_guidance"] and body["recommended_ingredients"]


async def test_seeded_cast_reproducible_and_unseeded_differs(client: AsyncClient) -> None:
    body = {"count": 9, "seed": "feast-of-yule"}
    a = (await client.post("/rune/cast", json=body)).json()
    b = (await client.post("/rune/cast", json=body)).json()
    assert a["seeded"] is True and a["runes"] == b["runes"]
    c = (await client.post("/rune/cast", json={"count": 9, "seed": 12345})).json()
    d = (await client.post("/rune/cast", json={"count": 9, "seed": "12345"})).json()
    assert c["runes"] == d["runes"]
    # two unseeded 9-rune casts agree in order with probability < 1e-11
    e = (await client.post("/rune/cast", json={"count": 9})).json()
    f = (await client.post("/rune/cast", json={"count": 9})).json()
    assert [x["rune"]["name"] for x in e["runes"]] != [x["rune"]["name"] for x in f["runes"]]


async def test_cast_question_and_no_reversal(client: AsyncClient) -> None:
    r = await client.post(
        "/rune/cast",
        json={"count": 9, "seed": 7, "allow_reversed": False, "question": "A dinner for new friends?"},
    )
    body = r.json()
    assert not any(x["reversed"] for x in body["runes"])
    assert body["question"] == "A dinner for new friends?"
    assert {t["theme"] for t in body["question_themes"]} >= {"friendship", "beginning"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 2}, "count"),
        ({"count": 0}, "count"),
        ({"count": 24}, "count"),
        ({"count": "three"}, "count"),
        ({"count": True}, "count"),
        ({"count": 3, "question": "?" * 501}, "question"),
        ({"count": 3, "seed": ""}, "seed"),
        ({"count": 3, "seed": [1, 2]}, "seed"),
        ({"count": 3, "seed": True}, "seed"),
        ({"count": 3, "seed": 10**40}, "seed"),
        ({"count": 3, "seed": "s" * 257}, "seed"),
    ],
)
async def test_cast_422_names_field(client: AsyncClient, body: dict[str, Any], field: str) -> None:
    assert _field(await client.post("/rune/cast", json=body)) == field


# ── interpretation ───────────────────────────────────────────────────────────────────────────────────


async def test_interpret_comfort(client: AsyncClient) -> None:
    body = {"text": "I need comfort after a long cold week"}
    a = (await client.post("/interpret/situation", json=body)).json()
    b = (await client.post("/interpret/situation", json=body)).json()
    assert a == b
    assert a["fallback"] is False and a["method"] == "lexical-v1"
    assert [t["theme"] for t in a["themes"]] == ["comfort", "cold"]
    assert a["runes"][0]["name"] == "Kenaz" and 1 <= len(a["runes"]) <= 3
    assert a["elemental_emphasis"]["Fire"] == max(a["elemental_emphasis"].values())
    assert a["culinary_guidance"].startswith("Light the oven")
    assert a["ingredients"] and all(set(i) == {"slug", "name", "category"} for i in a["ingredients"])


async def test_interpret_celebration(client: AsyncClient) -> None:
    a = (
        await client.post("/interpret/situation", json={"text": "celebrating a new job with friends"})
    ).json()
    assert a["runes"][0]["name"] == "Wunjo"
    assert {t["theme"] for t in a["themes"]} == {"celebration", "beginning", "career", "friendship"}


async def test_interpret_fallback_is_the_daily_rune(client: AsyncClient) -> None:
    params = {"date": "2025-04-01", "tz": "Asia/Tokyo"}
    daily = (await client.get("/rune/daily", params=params)).json()
    r = await client.post("/interpret/situation", json={"text": "   zzz   ", **params})
    body = r.json()
    assert body["fallback"] is True and body["themes"] == []
    assert body["runes"][0]["name"] == daily["rune"]["name"] and "daily rune" in body["explanation"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({}, "text"),
        ({"text": "zzz", "tz": "Nowhere/Land"}, "tz"),
        ({"text": "celebrating with friends", "tz": "Nowhere/Land"}, "tz"),
        ({"text": "zzz", "date": "2025-02-30"}, "date"),
    ],
)
async def test_interpret_422_names_field(client: AsyncClient, body: dict[str, Any], field: str) -> None:
    assert _field(await client.post("/interpret/situation", json=body)) == field


async def test_interpret_accepts_2000_chars(client: AsyncClient) -> None:
    text = ("comfort " * 250)[:2000]
    r = await client.post("/interpret/situation", json={"text": text})
    assert r.status_code == 200 and r.json()["themes"][0]["theme"] == "comfort"


# ── runes ────────────────────────────────────────────────────────────────────────────────────────────


async def test_list_and_filter(client: AsyncClient) -> None:
    body = (await client.get("/runes")).json()
    assert body["count"] == 24 and [r["position"] for r in body["runes"]] == list(range(1, 25))
    assert body["runes"][0]["symbol"] == "ᚠ" and body["runes"][0]["codepoint"] == "U+16A0"
    tyr = (await client.get("/runes", params={"aett": "Tyr's ætt"})).json()
    assert tyr["count"] == 8 and tyr["runes"][0]["name"] == "Tiwaz"
    water = (await client.get("/runes", params={"element": "water"})).json()
    assert water["count"] == 6 and all(r["element"] == "Water" for r in water["runes"])
    both = (await client.get("/runes", params={"aett": "freyr", "element": "Fire"})).json()
    assert [r["name"] for r in both["runes"]] == ["Fehu", "Thurisaz", "Kenaz"]
    venus = (await client.get("/runes", params={"planet": "venus"})).json()
    assert {r["name"] for r in venus["runes"]} == {"Fehu", "Gebo", "Wunjo", "Ingwaz"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"aett": "odin"}, "aett"), ({"element": "aether"}, "element"), ({"planet": "vulcan"}, "planet")],
)
async def test_list_422(client: AsyncClient, params: dict[str, str], field: str) -> None:
    assert _field(await client.get("/runes", params=params)) == field


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("thurs", "Thurisaz"),
        ("Nauthiz", "Naudhiz"),
        ("RAIDO", "Raidho"),
        ("inguz", "Ingwaz"),
        ("ᛟ", "Othala"),
    ],
)
async def test_get_rune(client: AsyncClient, name: str, expected: str) -> None:
    r = await client.get(f"/runes/{name}")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == expected
    assert (body["reversed_meaning"] is None) is (not body["reversible"])


async def test_unknown_rune_404(client: AsyncClient) -> None:
    r = await client.get("/runes/odin")
    assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"


# ── the frontend's RuneAgentClient (B5) ──────────────────────────────────────────────────────────────

RUNE_RESULT_KEYS = {"symbol", "name", "meaning", "influence"}


def _assert_rune_result(body: dict[str, Any]) -> None:
    assert set(body) >= RUNE_RESULT_KEYS
    assert body["symbol"] in GLYPHS and isinstance(body["name"], str) and isinstance(body["meaning"], str)
    influence = body["influence"]
    assert set(influence) == {"elemental", "energy", "guidance"}
    assert list(influence["elemental"]) == ["Fire", "Water", "Air", "Earth"]
    assert list(influence["energy"]) == ["Spirit", "Essence", "Matter", "Substance"]
    assert all(
        isinstance(v, float) for v in [*influence["elemental"].values(), *influence["energy"].values()]
    )
    assert abs(sum(influence["elemental"].values()) - 1) < 1e-3
    assert abs(sum(influence["energy"].values()) - 1) < 1e-9
    assert isinstance(influence["guidance"], str) and body["name"] in influence["guidance"]
    assert "imageUrl" not in body or isinstance(body["imageUrl"], str)


async def test_guidance_exact_frontend_body(client: AsyncClient) -> None:
    # RuneAgentClient.getRuneGuidance(): JSON.stringify of a RuneAgentRequest
    request = {
        "datetime": "2025-06-21T18:30:00.000Z",
        "location": {"latitude": 40.7128, "longitude": -74.006},
        "context": "recipe",
        "preferences": {
            "dietaryRestrictions": ["vegetarian"],
            "cuisineTypes": ["Italian"],
            "intensity": "mild",
        },
    }
    r = await client.post("/api/runes/guidance", json=request)
    assert r.status_code == 200
    body = r.json()
    _assert_rune_result(body)
    assert body["date"] == "2025-06-21" and body["sky"]["sect"] == "diurnal"
    daily = (await client.get("/rune/daily", params={"date": "2025-06-21"})).json()
    assert body["name"] == daily["rune"]["name"]
    assert "Italian" in body["influence"]["guidance"]
    assert all(i["category"] for i in body["recommendedIngredients"])
    # same handler at the gateway path (NGINX strips /api/runes)
    r2 = await client.post("/guidance", json=request)
    assert r2.json() == body


async def test_guidance_empty_body_and_night(client: AsyncClient) -> None:
    r = await client.post("/api/runes/guidance", json={})
    assert r.status_code == 200
    _assert_rune_result(r.json())
    night = (await client.post("/guidance", json={"datetime": "2025-01-15T05:00:00Z"})).json()
    assert night["sky"]["sect"] == "nocturnal" and night["date"] == "2025-01-15"


async def test_guidance_vegetarian_drops_meat() -> None:
    async for c in _client(_app()):
        # find a date whose rune recommends meat, then ask for it vegetarian
        for day in range(1, 60):
            when = f"2025-03-{day:02d}" if day <= 31 else f"2025-04-{day - 31:02d}"
            body = (await c.post("/guidance", json={"datetime": f"{when}T16:00:00Z"})).json()
            if {i["slug"] for i in body["recommendedIngredients"]} & MEAT_AND_FISH:
                veg = (
                    await c.post(
                        "/guidance",
                        json={
                            "datetime": f"{when}T16:00:00Z",
                            "preferences": {"dietaryRestrictions": ["Vegetarian"]},
                        },
                    )
                ).json()
                assert veg["excludedIngredients"] and all(
                    "vegetarian" in e["excludedBy"] for e in veg["excludedIngredients"]
                )
                kept = {i["slug"] for i in veg["recommendedIngredients"]}
                assert kept.isdisjoint({e["slug"] for e in veg["excludedIngredients"]})
                return
        pytest.fail("no date with a meat ingredient found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"context": "dessert"}, "context"),
        ({"location": {"latitude": 95, "longitude": 0}}, "location.latitude"),
        ({"location": {"latitude": 0, "longitude": 200}}, "location.longitude"),
        ({"location": {"latitude": 0}}, "location.longitude"),
        ({"datetime": "not a date"}, "datetime"),
        ({"datetime": "9999-12-31T23:59:59-12:00"}, "datetime"),
        ({"datetime": "1500-06-01T12:00:00Z"}, "datetime"),
        ({"preferences": {"intensity": "extreme"}}, "preferences.intensity"),
        ({"timezone": "Atlantis/Capital"}, "timezone"),
    ],
)
async def test_guidance_422_names_field(client: AsyncClient, body: dict[str, Any], field: str) -> None:
    assert _field(await client.post("/api/runes/guidance", json=body)) == field
