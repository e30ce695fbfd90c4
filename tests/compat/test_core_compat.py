"""The existing frontend keeps working: the exact legacy bodies of
design/reference/frontend-contract-analysis.md (§1.2 A1–A5, §1.5 B1/B2/B6, §1.6 k6/Artillery, §1.9 HEAD)
sent to alchemical-core, and the fields those callers read checked in the answers."""

from __future__ import annotations

import math

from httpx import AsyncClient

ELEMENTS = ("Fire", "Water", "Earth", "Air")
CLASSICAL = {"Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn"}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


async def test_a1_elemental_names(core: AsyncClient) -> None:
    # AlchemicalApiClient A1 / BackendStatus demo: {ingredients: string[]} (weights dropped when undefined)
    r = await core.post("/calculate/elemental", json={"ingredients": ["tomato", "basil", "mozzarella"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert all(_is_number(body[e]) and body[e] >= 0 for e in ELEMENTS)
    assert abs(sum(body[e] for e in ELEMENTS) - 1) < 1e-12


async def test_a1_elemental_with_weights(core: AsyncClient) -> None:
    r = await core.post(
        "/calculate/elemental", json={"ingredients": ["tomato", "basil", "mozzarella"], "weights": [3, 1, 2]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["method"] == "weights"


async def test_k6_and_notebook_extras_ignored(core: AsyncClient) -> None:
    # k6 adds normalize: true; the notebook adds method: "weighted_average"
    for extra in ({"normalize": True}, {"method": "weighted_average"}):
        r = await core.post("/calculate/elemental", json={"ingredients": ["tomato", "onion"], **extra})
        assert r.status_code == 200, r.text
        assert abs(sum(r.json()[e] for e in ELEMENTS) - 1) < 1e-12


async def test_a2_thermodynamics_bare_elements(core: AsyncClient) -> None:
    # A2 (and k6, Artillery): the element object itself, no wrapper; reads heat, entropy, reactivity,
    # gregsEnergy, equilibrium
    r = await core.post(
        "/calculate/thermodynamics", json={"Fire": 0.3, "Water": 0.2, "Earth": 0.3, "Air": 0.2}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    for key in ("heat", "entropy", "reactivity", "gregsEnergy", "equilibrium", "kalchm", "monica"):
        assert _is_number(body[key]), key
    assert 0 <= body["equilibrium"] <= 1
    assert body["inputs"]["elementsRegime"] == "given"


async def test_b2_thermodynamics_ingredients(core: AsyncClient) -> None:
    # ThermodynamicsClient B2: {ingredients: string[]}
    #   → {heat, entropy, reactivity, gregsEnergy, kalchm, monica}
    r = await core.post("/calculate/thermodynamics", json={"ingredients": ["salmon", "lemon", "dill"]})
    assert r.status_code == 200, r.text
    body = r.json()
    for key in ("heat", "entropy", "reactivity", "gregsEnergy", "kalchm", "monica"):
        assert _is_number(body[key]), key
    assert body["inputs"]["elementsRegime"] == "dish_pipeline"
    assert len(body["resolved"]) == 3


async def test_a3_current_hour_legacy_fields(core: AsyncClient) -> None:
    # A3: GET /planetary/current-hour → {current_time, dominant_planet, influence_strength, all_influences}
    r = await core.get("/planetary/current-hour")
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["current_time"], str) and body["current_time"].endswith("Z")
    assert body["dominant_planet"] in CLASSICAL
    assert body["dominant_planet"] == body["planet"]
    assert set(body["all_influences"]) == CLASSICAL
    assert all(0 <= v <= 1 for v in body["all_influences"].values())
    assert body["influence_strength"] == body["all_influences"][body["dominant_planet"]]
    assert body["influence_strength"] == max(body["all_influences"].values())


async def test_b6_planetary_current(core: AsyncClient) -> None:
    # PlanetaryHoursClient B6: GET /api/planetary/current?timestamp=ISO&lat=&lon= → {planet, hourNumber?,
    # isDaytime, start?, end?}
    r = await core.get(
        "/api/planetary/current",
        params={"timestamp": "2025-09-22T14:40:00.000Z", "lat": 40.7498, "lon": -73.7976},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["planet"] in CLASSICAL
    assert isinstance(body["isDaytime"], bool)
    assert isinstance(body["hourNumber"], int)
    assert body["start"] < "2025-09-22T14:40:00Z" < body["end"]


async def test_a5_esms_lowercase_reads_monica(core: AsyncClient) -> None:
    r = await core.post("/calculate/esms", json={"spirit": 4, "essence": 3, "matter": 2, "substance": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert _is_number(body["monica"]) and body["kalchm"] == 1728.0


async def test_backend_adapter_monica_constant_negative_essence(core: AsyncClient) -> None:
    # backendAdapter.calculateMonicaConstant sends {spirit: k, essence: g, matter: r, substance: 0.5};
    # Greg's Energy g is often negative: must not be a 4xx
    r = await core.post(
        "/calculate/esms", json={"spirit": 389.1, "essence": -26.8, "matter": 30.9, "substance": 0.5}
    )
    assert r.status_code == 200, r.text
    assert _is_number(r.json()["monica"])


async def test_head_positions_post(core: AsyncClient) -> None:
    # HEAD AlchemicalApiClient: POST /planetary/positions
    #   {year, month, day, hour, minute, latitude, longitude}
    r = await core.post(
        "/planetary/positions",
        json={
            "year": 2024,
            "month": 3,
            "day": 20,
            "hour": 3,
            "minute": 6,
            "latitude": 40.7128,
            "longitude": -74.006,
        },
    )
    assert r.status_code == 200, r.text
    planets = r.json()["planets"]
    assert list(planets) == [
        "Sun",
        "Moon",
        "Mercury",
        "Venus",
        "Mars",
        "Jupiter",
        "Saturn",
        "Uranus",
        "Neptune",
        "Pluto",
    ]
    for p in planets.values():
        assert {
            "longitude",
            "sign",
            "degree",
            "minute",
            "degreeInSign",
            "retrograde",
            "speed",
            "distanceAu",
        } <= set(p)


async def test_artillery_bad_inputs_are_4xx(core: AsyncClient) -> None:
    r = await core.post(
        "/calculate/thermodynamics", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    r = await core.post("/calculate/elemental", json={})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "ingredients"
    r = await core.post("/calculate/elemental", json={"ingredients": ["'; DROP TABLE users; --"]})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "ingredients"
    r = await core.post("/calculate/thermodynamics", json={"Fire": "a lot", "Water": 1, "Earth": 1, "Air": 1})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "Fire"
