"""Calculation routes: thermodynamics, ESMS, alchemize (and elemental, in routes_elemental)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from shared.alchemy import ChartError, ChartPoint, alchemize, inertial_mass_weight, parse_chart
from shared.alchemy.alchemize import AlchemizeResult
from shared.alchemy.thermodynamics import Thermodynamics, thermodynamics
from shared.app import api_router
from shared.astro import is_diurnal
from shared.errors import InvalidInput
from shared.http import ORJSONResponse
from shared.inputs import QUERY_NAMES, Location, parse_instant, parse_location
from shared.ratelimit import heavy_calculation
from shared.sky import SkyMoment
from shared.validation import json_body, openapi_body

from .deps import SettingsDep, SkyDep
from .dishes import dish_elements
from .schemas import ChartRequest, LocationIn, ThermodynamicsRequest

router = api_router(tags=["calculate"])


def _location(settings: Any, loc: LocationIn | None, prefix: str = "location.") -> Location:
    if loc is None:
        return parse_location(settings)
    return parse_location(settings, loc.latitude, loc.longitude, loc.tz, prefix=prefix)


def equilibrium(elements: dict[str, float]) -> float:
    """Legacy ``equilibrium`` field: the balance of the normalised elements, max(0, 1 − 4·variance)
    (the frontend's elemental-signature balance; 1 = perfectly even, 0 = one element only)."""
    values = [max(0.0, v) for v in elements.values()]
    total = sum(values)
    if not total > 0 or not math.isfinite(total):
        return 1.0  # all-zero normalises to 0.25 each: perfectly even
    shares = [v / total for v in values]
    variance = sum((x - 0.25) * (x - 0.25) for x in shares) / 4
    return max(0.0, 1.0 - 4.0 * variance)


def thermo_payload(thermo: Thermodynamics) -> dict[str, Any]:
    return {
        "heat": thermo.heat,
        "entropy": thermo.entropy,
        "reactivity": thermo.reactivity,
        "gregsEnergy": thermo.gregs_energy,
        "kalchm": thermo.kalchm,
        "monica": thermo.monica,
        "monicaDegenerate": thermo.monica_degenerate,
    }


@router.post(
    "/calculate/thermodynamics",
    summary="Heat, entropy, reactivity, Greg's Energy, kalchm, Monica",
    openapi_extra=openapi_body(
        ThermodynamicsRequest,
        {
            "canonical": {
                "esms": {"Spirit": 4, "Essence": 3, "Matter": 2, "Substance": 1},
                "elements": {"Fire": 2, "Water": 1, "Earth": 0.5, "Air": 1.5},
            },
            "legacy bare elements": {"Fire": 0.3, "Water": 0.2, "Earth": 0.3, "Air": 0.2},
            "ingredients": {"ingredients": ["salmon", "lemon", "dill"]},
        },
    ),
)
async def calculate_thermodynamics(request: Request) -> ORJSONResponse:
    body = await json_body(request, ThermodynamicsRequest)
    settings, sky = request.app.state.settings, request.app.state.sky
    bare = body.bare_elements()
    if bare == {}:
        raise InvalidInput("Fire", "a bare element object needs all four of Fire, Water, Earth, Air")
    sources = [s for s in (bare, body.elements, body.ingredients) if s is not None]
    if not sources:
        raise InvalidInput("elements", "give elements ({Fire, Water, Earth, Air}) or a list of ingredients")
    if len(sources) > 1:
        raise InvalidInput("elements", "give only one of: bare elements, elements, ingredients")

    at = parse_instant(body.at, "at") if body.at else None
    location = _location(settings, body.location)
    inputs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    moment = None
    if body.esms is not None:
        s, e, m, su = body.esms.Spirit, body.esms.Essence, body.esms.Matter, body.esms.Substance
        inputs["esmsSource"] = "given"
    else:
        moment = sky.moment(at, location)
        esms = moment.result.esms
        s, e, m, su = esms.spirit, esms.essence, esms.matter, esms.substance
        inputs["esmsSource"] = "sky"
        inputs["at"] = moment.at
        inputs["location"] = location.as_dict()
        inputs["isDiurnal"] = moment.diurnal

    if body.ingredients is not None:
        moment = moment or sky.moment(at, location)
        dish = dish_elements(request.app.state.resolver, body.ingredients, moment.chart)
        elements = dish.elements
        inputs["elementsRegime"] = "dish_pipeline"
        extra = {"resolved": dish.resolved, "unresolved": dish.unresolved, "unknownUnits": dish.unknown_units}
    else:
        elements = bare if bare is not None else body.elements.as_dict()  # type: ignore[union-attr]
        inputs["elementsRegime"] = "given"
    inputs["esms"] = {"Spirit": s, "Essence": e, "Matter": m, "Substance": su}
    inputs["elements"] = elements
    thermo = thermodynamics(
        s, e, m, su, elements["Fire"], elements["Water"], elements["Earth"], elements["Air"]
    )
    payload = thermo_payload(thermo)
    payload["equilibrium"] = equilibrium(elements)
    payload["inputs"] = inputs
    payload.update(extra)
    return ORJSONResponse(payload)


def _chart_sect(chart: dict[str, ChartPoint | str]) -> bool | None:
    """Sect from a chart with an Ascendant: the Sun is above the horizon when it lies in the half of the
    ecliptic from the Descendant through the Midheaven to the Ascendant (houses 7–12)."""
    asc = chart.get("Ascendant")
    sun = chart.get("Sun")
    if not isinstance(asc, ChartPoint) or not isinstance(sun, ChartPoint):
        return None
    asc_lon, sun_lon = asc.lon, sun.lon
    if asc_lon is None or sun_lon is None:
        return None
    return ((sun_lon - asc_lon) % 360.0) > 180.0


def _resolve_chart(
    body: ChartRequest, settings: Any, sky: Any
) -> tuple[dict[str, Any], bool, str, dict[str, Any]]:
    """(chart, diurnal, source, context) from the request: a given chart, or the sky at a moment."""
    if body.positions is not None:
        try:
            chart: dict[str, Any] = parse_chart(body.positions)
        except ChartError as exc:
            raise InvalidInput(exc.field, exc.reason) from exc
        if not any(name != "Ascendant" for name in chart):
            raise InvalidInput("positions", "no planet from Sun..Pluto was given")
        context: dict[str, Any] = {}
        if body.isDiurnal is not None:
            diurnal, sect_source = body.isDiurnal, "given"
        else:
            from_chart = _chart_sect(chart)
            if from_chart is not None:
                diurnal, sect_source = from_chart, "ascendant"
            elif body.at is not None:
                when = parse_instant(body.at, "at")
                location = _location(settings, body.location)
                diurnal = is_diurnal(when, location.latitude, location.longitude)
                sect_source = "sun_altitude"
                context = {"at": when, "location": location.as_dict()}
            else:
                raise InvalidInput(
                    "isDiurnal", "required for a chart without an Ascendant (or give at and location)"
                )
        context["sectSource"] = sect_source
        return chart, diurnal, "chart", context
    at = parse_instant(body.at, "at") if body.at else None
    location = _location(settings, body.location)
    moment = sky.moment(at, location)
    chart = dict(moment.chart)
    context = {"at": moment.at, "location": location.as_dict(), "sectSource": "sun_altitude"}
    return chart, moment.diurnal, "sky", context


@router.post(
    "/calculate/esms",
    summary="ESMS (Spirit, Essence, Matter, Substance) of a chart or the sky",
    openapi_extra=openapi_body(ChartRequest),
)
async def calculate_esms(request: Request) -> ORJSONResponse:
    body = await json_body(request, ChartRequest)
    settings, sky = request.app.state.settings, request.app.state.sky
    legacy = body.legacy_esms()
    if legacy == ():
        raise InvalidInput("spirit", "legacy ESMS needs all four of spirit, essence, matter, substance")
    if legacy is not None and body.positions is None:
        # Legacy {spirit, essence, matter, substance}: kalchm from the given ESMS; Monica needs elements,
        # taken from the sky now (0.6/0.4 totals), which the response says.
        s, e, m, su = legacy
        moment = sky.moment(None, parse_location(settings))
        totals = moment.result.element_totals
        thermo = thermodynamics(s, e, m, su, totals["Fire"], totals["Water"], totals["Earth"], totals["Air"])
        return ORJSONResponse(
            {
                "Spirit": s,
                "Essence": e,
                "Matter": m,
                "Substance": su,
                "spirit": s,
                "essence": e,
                "matter": m,
                "substance": su,
                "kalchm": thermo.kalchm,
                "monica": thermo.monica,
                "thermodynamics": thermo_payload(thermo),
                "source": "given_esms",
                "elementsRegime": "sky_totals_0.6_0.4_now",
                "elements": dict(totals),
                "at": moment.at,
            }
        )
    chart, diurnal, source, context = _resolve_chart(body, settings, sky)
    result = alchemize(chart, diurnal)
    esms = result.esms
    payload: dict[str, Any] = {
        "Spirit": esms.spirit,
        "Essence": esms.essence,
        "Matter": esms.matter,
        "Substance": esms.substance,
        "spirit": esms.spirit,
        "essence": esms.essence,
        "matter": esms.matter,
        "substance": esms.substance,
        "kalchm": result.kalchm,
        "monica": result.monica,
        "isDiurnal": diurnal,
        "source": source,
        "thermodynamics": thermo_payload(result.thermodynamics),
        "elementsRegime": result.elements_regime,
        "elementTotals": dict(result.element_totals),
        "perPlanet": {b: c.as_dict() for b, c in esms.per_planet.items()},
        "aspects": [a.as_dict() for a in esms.aspects],
        "aspectModifications": dict(esms.aspect_modifications),
        **context,
    }
    return ORJSONResponse(payload)


def _sky_payload(moment: SkyMoment, location: Location) -> dict[str, Any]:
    """The alchemize answer for a live-sky moment, built once per moment and location (pure)."""
    key = ("alchemize", location)
    payload = moment.memo.get(key)
    if payload is None:
        context = {"at": moment.at, "location": location.as_dict(), "sectSource": "sun_altitude"}
        payload = _alchemize_payload(
            dict(moment.chart), moment.diurnal, "sky", context, moment.positions, moment.result
        )
        moment.memo[key] = payload
    return payload


def _alchemize_payload(
    chart: dict[str, Any],
    diurnal: bool,
    source: str,
    context: dict[str, Any],
    positions: Any = None,
    result: AlchemizeResult | None = None,
) -> dict[str, Any]:
    result = result if result is not None else alchemize(chart, diurnal)
    payload = result.as_dict()
    payload["source"] = source
    payload["normalized"] = True
    payload["metadata"] = {
        "source": source,
        "dominantElement": result.dominant_element,
        "dominantModality": result.dominant_modality,
        "sunSign": result.sun_sign,
        "isDiurnal": diurnal,
        "elementsRegime": result.elements_regime,
    }
    if positions is not None:
        payload["positions"] = {name: p.to_dict() for name, p in positions.items()}
        payload["planetaryMomentum"] = {name: p.speed * _mass_weight(name) for name, p in positions.items()}
    payload.update(context)
    return payload


def _mass_weight(body: str) -> float:
    return inertial_mass_weight(body)


@router.post(
    "/alchemize",
    summary="Everything about a moment (or a given chart): elements, ESMS, thermodynamics",
    dependencies=[Depends(heavy_calculation)],
    openapi_extra=openapi_body(ChartRequest),
)
async def alchemize_post(request: Request) -> ORJSONResponse:
    body = await json_body(request, ChartRequest)
    settings, sky = request.app.state.settings, request.app.state.sky
    if body.positions is None:
        at = parse_instant(body.at, "at") if body.at else None
        location = _location(settings, body.location)
        return ORJSONResponse(_sky_payload(sky.moment(at, location), location))
    chart, diurnal, source, context = _resolve_chart(body, settings, sky)
    return ORJSONResponse(_alchemize_payload(chart, diurnal, source, context))


@router.get(
    "/alchemize",
    summary="The sky at a moment (default now), alchemized",
    dependencies=[Depends(heavy_calculation)],
)
async def alchemize_get(
    settings: SettingsDep,
    sky: SkyDep,
    at: Annotated[str | None, Query(max_length=64, description="ISO 8601 instant; default now")] = None,
    lat: Annotated[float | None, Query()] = None,
    lon: Annotated[float | None, Query()] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> ORJSONResponse:
    when: datetime | None = parse_instant(at, "at") if at else None
    location = parse_location(settings, lat, lon, tz, names=QUERY_NAMES)
    return ORJSONResponse(_sky_payload(sky.moment(when, location), location))
