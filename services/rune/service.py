"""The rune service's use cases: validate what the routes pass in, call the engine, shape the JSON.

Thin on purpose: the rules live in :mod:`services.rune.engine`, the data in :mod:`services.rune.runes`, the
sky in :mod:`services.rune.sky` (over :mod:`shared.astro`) and the catalog backing in
:mod:`services.rune.kitchen`. Bad input raises :class:`shared.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.rune import engine
from services.rune.kitchen import KitchenIndex, ResolvedIngredient, filter_by_diet
from services.rune.runes import Rune, RuneSet
from services.rune.schemas import CastRequest, GuidanceRequest, SituationRequest
from services.rune.sky import (
    MAX_DATE,
    MIN_DATE,
    LocationError,
    day_sky,
    moment_sky,
    resolve_timezone,
    validate_lat,
    validate_lon,
)
from shared.alchemy.constants import ELEMENTS
from shared.errors import InvalidInput, NotFound

__all__ = ["RuneService", "rune_full", "rune_summary"]


def rune_summary(rune: Rune, reversed_: bool = False) -> dict[str, Any]:
    """The compact rune object used inside daily, cast and interpretation answers."""
    return {
        "name": rune.name,
        "symbol": rune.glyph,
        "codepoint": rune.codepoint,
        "position": rune.position,
        "transliteration": rune.transliteration,
        "aett": rune.aett,
        "aett_name": rune.aett_name,
        "meaning": rune.meaning_for(reversed_),
        "element": rune.element,
        "planet": rune.planet,
        "keywords": list(rune.keywords),
        "reversible": rune.reversible,
        "reversed": reversed_,
    }


def _ingredients(items: Sequence[ResolvedIngredient]) -> list[dict[str, str]]:
    return [i.to_dict() for i in items]


def rune_full(rune: Rune, kitchen: KitchenIndex) -> dict[str, Any]:
    """Every field of a rune (``GET /runes``, ``GET /runes/{name}``)."""
    return {
        "position": rune.position,
        "name": rune.name,
        "symbol": rune.glyph,
        "codepoint": rune.codepoint,
        "transliteration": rune.transliteration,
        "aett": rune.aett,
        "aett_name": rune.aett_name,
        "alternate_names": list(rune.alternate_names),
        "literal": rune.literal,
        "reversible": rune.reversible,
        "meaning": rune.meaning,
        "reversed_meaning": rune.reversed_meaning,
        "keywords": list(rune.keywords),
        "element": rune.element,
        "planet": rune.planet,
        "correspondence": rune.correspondence,
        "culinary_guidance": rune.culinary_guidance,
        "reversed_culinary_guidance": rune.reversed_culinary_guidance,
        "recommended_elements": dict(rune.recommended_elements),
        "recommended_ingredients": _ingredients(kitchen.for_rune(rune.name)),
        "themes": dict(rune.themes),
        "poem_notes": rune.poem_notes,
        "sources": rune.sources,
    }


def _location_error(exc: LocationError, prefix: str = "") -> InvalidInput:
    return InvalidInput(prefix + exc.field, exc.reason)


class RuneService:
    """All use cases over one rune set, one catalog index and the default place."""

    def __init__(
        self,
        rune_set: RuneSet,
        kitchen: KitchenIndex,
        *,
        default_latitude: float,
        default_longitude: float,
        default_timezone: str,
    ) -> None:
        self.runes = rune_set
        self.kitchen = kitchen
        self.default_latitude = default_latitude
        self.default_longitude = default_longitude
        self.default_timezone = default_timezone

    # ── input helpers ────────────────────────────────────────────────────────────────────────────────

    def zone(self, tz: str | None, field: str = "tz") -> ZoneInfo:
        try:
            return resolve_timezone(tz if tz is not None else self.default_timezone)
        except LocationError as exc:
            raise InvalidInput(field, exc.reason) from None

    def place(
        self, lat: float | None, lon: float | None, lat_field: str = "lat", lon_field: str = "lon"
    ) -> tuple[float, float]:
        if (lat is None) != (lon is None):
            missing = lon_field if lon is None else lat_field
            raise InvalidInput(missing, f"give both {lat_field} and {lon_field}, or neither")
        if lat is None or lon is None:
            return self.default_latitude, self.default_longitude
        try:
            return validate_lat(lat), validate_lon(lon)
        except LocationError as exc:
            raise InvalidInput(lat_field if exc.field == "lat" else lon_field, exc.reason) from None

    @staticmethod
    def local_date(value: date | None, zone: ZoneInfo, field: str = "date") -> date:
        local = value if value is not None else datetime.now(zone).date()
        if not MIN_DATE <= local <= MAX_DATE:
            raise InvalidInput(field, f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}")
        return local

    def find(self, name: str) -> Rune:
        rune = self.runes.find(name)
        if rune is None:
            raise NotFound(f"no Elder Futhark rune called {name[:64]!r}")
        return rune

    # ── daily ────────────────────────────────────────────────────────────────────────────────────────

    def daily_choice(self, local_date: date, zone: ZoneInfo, user_id: str | None) -> engine.DailyChoice:
        return engine.choose_daily(self.runes, day_sky(local_date, zone), user_id)

    def daily(
        self,
        *,
        date_: date | None,
        tz: str | None,
        lat: float | None = None,
        lon: float | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        zone = self.zone(tz)
        latitude, longitude = self.place(lat, lon)
        local = self.local_date(date_, zone)
        choice = self.daily_choice(local, zone, user_id or None)
        rune = choice.rune
        body: dict[str, Any] = {
            "rune": rune_summary(rune),
            "symbol": rune.glyph,
            "meaning": rune.meaning,
            "culinary_guidance": rune.culinary_guidance,
            "recommended_elements": dict(rune.recommended_elements),
            "recommended_ingredients": _ingredients(self.kitchen.for_rune(rune.name)),
            "cooking_methods": list(self.runes.element_methods[rune.element]),
            "date": local.isoformat(),
            "timezone": zone.key,
            "location": {"latitude": latitude, "longitude": longitude, "affects_rune": False},
            "sky": choice.sky.to_dict(),
            "rule": choice.rule_dict(),
        }
        if user_id:
            body["user_id"] = user_id
        return body

    def culinary(self, *, date_: date | None, tz: str | None, user_id: str | None = None) -> dict[str, Any]:
        """``GET /guidance/culinary``: the daily rune's kitchen advice only."""
        zone = self.zone(tz)
        local = self.local_date(date_, zone)
        choice = self.daily_choice(local, zone, user_id or None)
        rune = choice.rune
        return {
            "rune": rune_summary(rune),
            "culinary_guidance": rune.culinary_guidance,
            "element_advice": engine.element_advice(self.runes, rune.recommended_elements),
            "recommended_elements": dict(rune.recommended_elements),
            "recommended_ingredients": _ingredients(self.kitchen.for_rune(rune.name)),
            "cooking_methods": list(self.runes.element_methods[rune.element]),
            "date": local.isoformat(),
            "timezone": zone.key,
            "sky": choice.sky.to_dict(),
        }

    # ── cast ─────────────────────────────────────────────────────────────────────────────────────────

    def cast(self, req: CastRequest) -> dict[str, Any]:
        rng, seeded = engine.seed_rng(req.seed)
        result = engine.cast(self.runes, req.count, rng, req.allow_reversed)
        central = result.central
        runes = [
            {
                "index": d.index,
                "position": d.position_key,
                "position_name": d.position_name,
                "position_meaning": d.position_meaning,
                "rune": rune_summary(d.rune, d.reversed),
                "reversed": d.reversed,
                "meaning": d.meaning,
                "culinary_guidance": d.culinary_guidance,
                "recommended_ingredients": _ingredients(self.kitchen.for_rune(d.rune.name)),
            }
            for d in result.drawn
        ]
        body: dict[str, Any] = {
            "count": req.count,
            "spread": {
                "name": result.spread.name,
                "description": result.spread.description,
                "positions": [p.key for p in result.spread.positions],
                "central_position": central.position_key,
            },
            "runes": runes,
            "elemental_emphasis": result.elements,
            "dominant_element": engine.dominant_element(result.elements),
            "culinary_guidance": engine.cast_guidance(self.runes, result),
            "recommended_ingredients": _ingredients(self.kitchen.for_rune(central.rune.name)),
            "allow_reversed": req.allow_reversed,
            "seeded": seeded,
        }
        if req.question is not None:
            _, themes = engine.match_themes(self.runes, req.question)
            body["question"] = req.question
            body["question_themes"] = [t.to_dict() for t in themes]
        return body

    # ── interpretation ───────────────────────────────────────────────────────────────────────────────

    def interpret(self, req: SituationRequest) -> dict[str, Any]:
        zone = self.zone(req.tz)  # validated even when the text matches (a bad zone is always a 422)
        local = self.local_date(req.date, zone)
        result = engine.interpret(self.runes, req.text)
        body: dict[str, Any] = {
            "method": "lexical-v1",
            "tokens": result.tokens,
            "themes": [t.to_dict() for t in result.themes],
        }
        if result.matched:
            top = result.ranked[0].rune
            names = [s.rune.name for s in result.ranked]
            body |= {
                "fallback": False,
                "explanation": (
                    f"Matched {len(result.themes)} theme(s); runes scored by theme overlap "
                    f"(best: {top.name}, {result.ranked[0].score:g})."
                ),
                "runes": [
                    {
                        **rune_summary(s.rune),
                        "score": s.score,
                        "themes": list(s.themes),
                        "culinary_guidance": s.rune.culinary_guidance,
                    }
                    for s in result.ranked
                ],
                "elemental_emphasis": result.elements,
                "culinary_guidance": top.culinary_guidance
                + " "
                + engine.element_advice(self.runes, result.elements),
                "ingredients": _ingredients(self.kitchen.merged(names, limit=12)),
            }
            return body
        choice = self.daily_choice(local, zone, req.user_id or None)
        rune = choice.rune
        elements = dict(rune.recommended_elements)
        body |= {
            "fallback": True,
            "explanation": (
                "No theme words were recognised, so this is the daily rune for "
                f"{local.isoformat()} ({zone.key})."
            ),
            "runes": [
                {
                    **rune_summary(rune),
                    "score": 0.0,
                    "themes": [],
                    "culinary_guidance": rune.culinary_guidance,
                }
            ],
            "elemental_emphasis": elements,
            "culinary_guidance": rune.culinary_guidance + " " + engine.element_advice(self.runes, elements),
            "ingredients": _ingredients(self.kitchen.for_rune(rune.name)),
            "date": local.isoformat(),
            "timezone": zone.key,
        }
        return body

    # ── catalog of runes ─────────────────────────────────────────────────────────────────────────────

    def list_runes(self, *, aett: str | None, element: str | None, planet: str | None) -> dict[str, Any]:
        selected: Sequence[Rune] = self.runes.runes
        filters: dict[str, str] = {}
        if aett is not None:
            found = self.runes.aett(aett)
            if found is None:
                raise InvalidInput("aett", "unknown ætt; use freyr, hagal or tyr (or 1, 2, 3)")
            selected = [r for r in selected if r.aett == found.key]
            filters["aett"] = found.key
        if element is not None:
            canonical = next((e for e in ELEMENTS if e.lower() == element.strip().lower()), None)
            if canonical is None:
                raise InvalidInput("element", f"must be one of {', '.join(ELEMENTS)}")
            selected = [r for r in selected if r.element == canonical]
            filters["element"] = canonical
        if planet is not None:
            wanted = planet.strip().lower()
            planets = sorted({r.planet for r in self.runes.runes})
            if wanted not in {p.lower() for p in planets}:
                raise InvalidInput("planet", f"must be one of {', '.join(planets)}")
            selected = [r for r in selected if r.planet.lower() == wanted]
            filters["planet"] = next(p for p in planets if p.lower() == wanted)
        return {
            "count": len(selected),
            "filters": filters,
            "runes": [rune_full(r, self.kitchen) for r in selected],
            "aettir": [{"key": a.key, "name": a.name, "number": a.number} for a in self.runes.aettir],
            "correspondence_set": self.runes.correspondence_set,
            "reversal_rule": self.runes.reversal_rule,
            "sources": list(self.runes.sources),
        }

    def get_rune(self, name: str) -> dict[str, Any]:
        return rune_full(self.find(name), self.kitchen)

    # ── the frontend's RuneAgentClient ───────────────────────────────────────────────────────────────

    def guidance(self, req: GuidanceRequest, now: datetime) -> dict[str, Any]:
        zone = self.zone(req.timezone, field="timezone")
        if req.location is not None:
            lat, lon = self.place(
                req.location.latitude, req.location.longitude, "location.latitude", "location.longitude"
            )
        else:
            lat, lon = self.default_latitude, self.default_longitude
        at = req.datetime or now
        if at.tzinfo is None or at.utcoffset() is None:
            at = at.replace(tzinfo=zone)
        try:
            local = at.astimezone(zone)
        except (OverflowError, ValueError):
            raise InvalidInput("datetime", "out of the supported range") from None
        local_date = self.local_date(local.date(), zone, field="datetime")
        try:
            moment = moment_sky(at, lat, lon, zone)
        except LocationError as exc:
            raise _location_error(exc, "location.") from None
        choice = self.daily_choice(local_date, zone, None)
        rune = choice.rune

        prefs = req.preferences
        intensity: engine.Intensity = (prefs.intensity if prefs and prefs.intensity else None) or "moderate"
        restrictions = prefs.dietaryRestrictions if prefs else []
        kept, excluded, unknown = filter_by_diet(self.kitchen.for_rune(rune.name), restrictions)

        elemental = engine.guidance_elements(rune, intensity)
        energy = engine.guidance_energy(rune, moment)
        sentences = [
            f"The {rune.name} rune ({rune.glyph}) suggests focusing on {rune.keywords[0]} and "
            f"{rune.keywords[1]}. {rune.culinary_guidance}"
        ]
        context_line = engine.context_sentence(self.runes, rune, req.context, [i.name for i in kept[:4]])
        if context_line:
            sentences.append(context_line)
        if prefs and prefs.cuisineTypes:
            cuisines = ", ".join(prefs.cuisineTypes[:3])
            sentences.append(f"Within {cuisines}, look for its {rune.element.lower()}-leaning dishes.")
        return {
            # RuneResult (src/lib/api/alchm-client.ts)
            "symbol": rune.glyph,
            "name": rune.name,
            "meaning": rune.meaning,
            "influence": {
                "elemental": {e: elemental[e] for e in ("Fire", "Water", "Air", "Earth")},
                "energy": energy,
                "guidance": " ".join(sentences),
            },
            # extras
            "codepoint": rune.codepoint,
            "transliteration": rune.transliteration,
            "aett": rune.aett,
            "element": rune.element,
            "planet": rune.planet,
            "keywords": list(rune.keywords),
            "reversed": False,
            "context": req.context,
            "intensity": intensity,
            "culinary_guidance": rune.culinary_guidance,
            "recommendedIngredients": _ingredients(kept),
            "excludedIngredients": excluded,
            "unknownRestrictions": unknown,
            "datetime": at.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z"),
            "date": local_date.isoformat(),
            "timezone": zone.key,
            "location": {"latitude": lat, "longitude": lon},
            "sky": {**choice.sky.to_dict(), **moment.to_dict()},
            "energyRule": (
                f"{engine.RUNE_PLANET_ENERGY_WEIGHT:g} × sectarian ESMS of {rune.planet} + "
                f"{engine.HOUR_RULER_ENERGY_WEIGHT:g} × sectarian ESMS of the hour ruler {moment.hour_ruler} "
                f"({moment.sect})"
            ),
            "rule": "The guidance rune is the daily rune of the local date (GET /rune/daily).",
        }
