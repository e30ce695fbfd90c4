"""Recipe (and cuisine) recommendations: normalise a request, compute the answer for an instant, explain it.

    query = engine.normalize(body)                    # every dialect → one RecipeQuery (4xx naming fields)
    eff, hour = engine.effective(query, now)          # 5-minute bucket, never before the hour's start
    key = engine.cache_key(query, eff)                # what the response cache is keyed by
    payload = engine.compute(query, eff, hour)        # deterministic in (query, eff)

Everything the answer depends on is in the key (the normalised query and the effective instant), so a cached
answer is the same as a fresh one. Only ``metadata.cache``, ``metadata.execution_time_ms``,
``metadata.dialect`` and ``metadata.requested_time`` are per call (appended after the cached bytes).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock
from typing import Any, Final

import orjson

from shared.alchemy import CLASSICAL_PLANETS, ELEMENTS, profile_compatibility, thermodynamics
from shared.astro.hours import PlanetaryHour
from shared.errors import InvalidInput
from shared.settings import Settings

from .filters import (
    RecipeFilter,
    TermRef,
    normalize_cuisines,
    normalize_diets,
    normalize_difficulty,
    normalize_meal_types,
    normalize_seasons,
)
from .index import KitchenIndex, RecipeEntry
from .inputs import Location, parse_instant, parse_location
from .schemas import RecipeRecommendBody
from .scoring import WEIGHTS, cosine4, planetary_favour
from .sky import BUCKET_S, HourMemo, SkyCache, SkyContext, effective_instant

__all__ = [
    "ALGORITHM_VERSION",
    "PANTRY_WEIGHT",
    "RecipeQuery",
    "RecommendEngine",
    "Scored",
    "parse_elements",
    "resolve_terms",
]

ALGORITHM_VERSION: Final = "2.0.0"
CALCULATION_METHOD: Final = "planetary_elemental_scoring"
SERVICE_LABEL: Final = "alchm.kitchen Kitchen Intelligence"
#: Weight of "uses what I have" when the caller lists ingredients: score = 0.8·base + 0.2·pantry.
PANTRY_WEIGHT: Final = 0.2
_ROUND = 4
_WEIGHTS: Final = dict(WEIGHTS)  # one shared (never mutated) dict in every breakdown
_EVEN: Final = dict.fromkeys(ELEMENTS, 0.25)


def parse_elements(value: Any, field: str) -> tuple[float, float, float, float] | None:
    """``{Fire, Water, Earth, Air}`` (keys case-insensitive, other keys ignored) → normalised 4-tuple."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput(field, "must be an object {Fire, Water, Earth, Air}")
    by_lower = {str(k).lower(): v for k, v in value.items()}
    vals: list[float] = []
    present = False
    for el in ELEMENTS:
        raw = by_lower.get(el.lower())
        if raw is None:
            vals.append(0.0)
            continue
        present = True
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise InvalidInput(f"{field}.{el}", "must be a finite number")
        if raw < 0:
            raise InvalidInput(f"{field}.{el}", "must not be negative")
        vals.append(float(raw))
    if not present:
        raise InvalidInput(field, "needs at least one of Fire, Water, Earth, Air")
    total = vals[0] + vals[1] + vals[2] + vals[3]
    if not total > 0:
        raise InvalidInput(field, "the elements must not all be zero")
    return (vals[0] / total, vals[1] / total, vals[2] / total, vals[3] / total)


def resolve_terms(index: KitchenIndex, names: Iterable[str]) -> tuple[TermRef, ...]:
    """Caller-named ingredients: resolved slug (any resolver stage) and the words for the text match."""
    out: dict[str, TermRef] = {}
    for name in names:
        res = index.resolver.resolve(name)
        slug = res.ingredient.slug if res.ingredient is not None and not res.non_food else None
        term = TermRef(text=name, slug=slug, words=TermRef.words_of(name))
        if term.slug is None and not term.words:
            continue
        out.setdefault(term.key(), term)
    return tuple(sorted(out.values(), key=lambda t: t.key()))


@dataclass(frozen=True, slots=True)
class RecipeQuery:
    """A normalised recommendation request (what the answer depends on, besides the effective instant)."""

    at: datetime | None
    location: Location
    target: tuple[float, float, float, float] | None
    target_source: str | None  # desired | current
    filter: RecipeFilter
    pantry: tuple[TermRef, ...]
    limit: int
    offset: int

    def key_dict(self, eff: datetime) -> dict[str, Any]:
        return {
            "v": ALGORITHM_VERSION,
            "at": eff.isoformat(),
            "loc": [self.location.latitude, self.location.longitude, self.location.tz],
            "target": list(self.target) if self.target is not None else None,
            "target_source": self.target_source,
            "filter": self.filter.key(),
            "pantry": [t.key() for t in self.pantry],
            "limit": self.limit,
            "offset": self.offset,
        }


@dataclass(frozen=True, slots=True)
class Scored:
    entry: RecipeEntry
    score: float
    base: float
    sky: float
    elemental: float
    favour: float
    final: tuple[float, float, float, float]
    pantry_share: float | None
    pantry_hits: tuple[str, ...]


class Ranking:
    """The sorted scores of one request; :meth:`scored` materialises a row for display."""

    __slots__ = (
        "_entries",
        "bases",
        "elementals",
        "favs",
        "finals",
        "hits",
        "order",
        "pantry_size",
        "scores",
        "sky",
    )

    def __init__(
        self,
        order: list[int],
        scores: list[float],
        bases: list[float],
        favs: list[float],
        hits: dict[int, tuple[str, ...]] | None,
        finals: list[tuple[float, float, float, float]],
        elementals: list[float],
        sky: SkyContext,
        entries: Sequence[RecipeEntry],
        pantry_size: int = 0,
    ) -> None:
        self.pantry_size = pantry_size
        self.order = order  # recipe indices, best first
        self.scores = scores  # per recipe index (all recipes; only ``order`` passed the filter)
        self.bases = bases
        self.favs = favs
        self.hits = hits  # pantry hits per recipe index, None without a pantry
        self.finals = finals
        self.elementals = elementals
        self.sky = sky
        self._entries = entries

    def __len__(self) -> int:
        return len(self.order)

    def scored(self, position: int) -> Scored:
        i = self.order[position]
        entry = self._entries[i]
        hits = self.hits[i] if self.hits is not None else ()
        return Scored(
            entry=entry,
            score=self.scores[i],
            base=self.bases[i],
            sky=self.sky.planets[entry.ruling.planet].score,
            elemental=self.elementals[i],
            favour=self.favs[i],
            final=self.finals[i],
            pantry_share=None if self.hits is None else len(hits) / self.pantry_size,
            pantry_hits=hits,
        )

    def page(self, offset: int, limit: int) -> list[Scored]:
        return [self.scored(p) for p in range(offset, min(len(self.order), offset + limit))]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _r(value: float) -> float:
    return round(value, _ROUND)


class RecommendEngine:
    """Stateless apart from two memo caches (the planetary hour per place, the sky per instant)."""

    def __init__(self, index: KitchenIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.hours = HourMemo()
        self.skies = SkyCache()
        self._tables: OrderedDict[Any, tuple[list[tuple[float, float, float, float]], list[float]]] = (
            OrderedDict()
        )
        self._tables_lock = Lock()
        self._effective: dict[tuple[int, datetime], datetime] = {}
        self._summaries: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}

    # --- normalisation --------------------------------------------------------------------------------------

    def location(self, raw: Mapping[str, Any] | None, field: str = "location") -> Location:
        raw = raw or {}
        lat = raw.get("latitude", raw.get("lat"))
        lon = raw.get("longitude", raw.get("lon", raw.get("lng")))
        tz = raw.get("tz", raw.get("timezone"))
        return parse_location(self.settings, lat, lon, tz, prefix=f"{field}.")

    def build_filter(
        self,
        *,
        cuisines: Sequence[str] = (),
        diets: Sequence[str] = (),
        meal_types: Sequence[str] = (),
        seasons: Sequence[str] = (),
        max_prep_time: int | None = None,
        max_total_time: int | None = None,
        max_difficulty: Any = None,
        exclude: Sequence[str] = (),
        q: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> RecipeFilter:
        f = {
            "cuisines": "cuisine_preferences",
            "diets": "dietary_restrictions",
            "meal_types": "meal_type",
            "seasons": "season",
            "max_difficulty": "max_difficulty",
            **(names or {}),
        }
        query = TermRef.words_of(q) if q else ()
        return RecipeFilter(
            cuisines=normalize_cuisines(cuisines, self.index.cuisine_slugs, f["cuisines"]),
            diets=normalize_diets(diets, f["diets"]),
            meal_types=normalize_meal_types(meal_types, f["meal_types"]),
            seasons=normalize_seasons(seasons, f["seasons"]),
            max_prep_time=max_prep_time,
            max_total_time=max_total_time,
            max_difficulty=normalize_difficulty(max_difficulty, f["max_difficulty"]),
            exclude=resolve_terms(self.index, exclude),
            query=query,
        )

    def normalize(self, body: RecipeRecommendBody) -> RecipeQuery:
        name = body.field_name
        at = parse_instant(body.current_time, name("current_time"))
        location = self.location(body.location)
        desired = parse_elements(body.desired_elements, name("desired_elements"))
        current = parse_elements(body.current_elements, name("current_elements"))
        target, source = (desired, "desired") if desired is not None else (current, "current")
        flt = self.build_filter(
            cuisines=body.cuisine_preferences,
            diets=body.dietary_restrictions,
            meal_types=body.meal_type,
            seasons=body.season,
            max_prep_time=body.max_prep_time,
            max_total_time=body.max_total_time,
            max_difficulty=body.max_difficulty,
            exclude=[*body.excluded_ingredients, *body.ingredient_dislikes],
            names={
                "cuisines": name("cuisine_preferences"),
                "diets": name("dietary_restrictions"),
                "meal_types": name("meal_type"),
                "seasons": name("season"),
                "max_difficulty": name("max_difficulty"),
            },
        )
        pantry = resolve_terms(self.index, [*body.ingredients, *body.ingredient_preferences])
        return RecipeQuery(
            at=at,
            location=location,
            target=target,
            target_source=source if target is not None else None,
            filter=flt,
            pantry=pantry,
            limit=body.limit,
            offset=body.offset,
        )

    def effective(
        self, at: datetime | None, location: Location, now: datetime
    ) -> tuple[datetime, PlanetaryHour]:
        instant = at if at is not None else now
        hour = self.hours.get(instant, location)
        key = (math.floor(instant.timestamp() / BUCKET_S), hour.start)
        eff = self._effective.get(key)
        if eff is None:
            eff = effective_instant(instant, hour)
            if len(self._effective) > 4096:
                self._effective.clear()
            self._effective[key] = eff
        return eff, hour

    @staticmethod
    def cache_key(query: RecipeQuery, eff: datetime) -> str:
        digest = hashlib.blake2b(
            orjson.dumps(query.key_dict(eff), option=orjson.OPT_SORT_KEYS), digest_size=16
        ).hexdigest()
        return "kitchen:rec:" + digest

    # --- scoring --------------------------------------------------------------------------------------------

    def sky(self, eff: datetime, location: Location, hour: PlanetaryHour | None = None) -> SkyContext:
        return self.skies.get(eff, location, hour)

    def elemental_table(
        self, sky: SkyContext, target: Sequence[float] | None
    ) -> tuple[list[tuple[float, float, float, float]], list[float]]:
        """Final elements and elemental alignment of every recipe (index order) for this sky — memoised by
        what they depend on: the sky's sign elements (or the caller's target), which change only when a
        planet changes sign."""
        key = (sky.s3, sky.weighted, tuple(target) if target is not None else None)
        found = self._tables.get(key)
        if found is not None:
            return found
        s3 = sky.s3
        finals = [entry.final_elements(s3) for entry in self.index.recipes]
        if target is None:
            weighted, wnorm = sky.weighted, sky.weighted_norm
            elementals = [cosine4(f, weighted, wnorm) for f in finals]
        else:
            target_map = dict(zip(ELEMENTS, target, strict=True))
            elementals = [
                profile_compatibility(dict(zip(ELEMENTS, f, strict=True)), target_map) for f in finals
            ]
        with self._tables_lock:
            self._tables[key] = (finals, elementals)
            while len(self._tables) > 32:
                self._tables.popitem(last=False)
        return finals, elementals

    def score_all(
        self,
        query_filter: RecipeFilter,
        sky: SkyContext,
        target: Sequence[float] | None,
        pantry: Sequence[TermRef] = (),
    ) -> Ranking:
        """Every recipe passing the filter, scored, sorted by score (descending) then id."""
        index = self.index
        finals, elementals = self.elemental_table(sky, target)
        sky_scores = [sky.planets[p].score for p in CLASSICAL_PLANETS]
        dignity = sky.dignity
        combo_favour = [planetary_favour(combo, dignity) for combo in index.fav_combos]
        favs = [combo_favour[f] for f in index.fav_ids]
        w_sky, w_el, w_fav, w_met = (
            WEIGHTS[k] for k in ("sky", "elemental", "planetaryFavour", "methodAffinity")
        )
        bases = [
            w_sky * sky_scores[r] + w_el * el + w_fav * fav + w_met * aff
            for r, el, fav, aff in zip(index.ruling_index, elementals, favs, index.affinities, strict=True)
        ]
        if query_filter.is_empty:
            kept: Sequence[int] = range(len(bases))
        else:
            accepts = query_filter.accepts
            recipes = index.recipes
            if query_filter.cuisines:  # only those cuisines' recipes can pass: look at nothing else
                candidates: Sequence[int] = sorted(
                    i for c in query_filter.cuisines for i in index.cuisine_positions.get(c, ())
                )
            else:
                candidates = range(len(recipes))
            kept = [i for i in candidates if accepts(recipes[i])]
        scores = bases
        hits: dict[int, tuple[str, ...]] | None = None
        if pantry:
            n_pantry = len(pantry)
            hits = {}
            scores = list(bases)
            for i in kept:
                entry = index.recipes[i]
                found = tuple(t.text for t in pantry if _uses(entry, t))
                hits[i] = found
                scores[i] = (1.0 - PANTRY_WEIGHT) * bases[i] + PANTRY_WEIGHT * (len(found) / n_pantry)
        # ``index.recipes`` is sorted by id and ``kept`` ascending, so a stable sort on the score alone
        # breaks ties by id.
        negated = [-x for x in scores]
        order = sorted(kept, key=negated.__getitem__)
        return Ranking(order, scores, bases, favs, hits, finals, elementals, sky, index.recipes, len(pantry))

    # --- the answer -----------------------------------------------------------------------------------------

    def compute(self, query: RecipeQuery, eff: datetime, hour: PlanetaryHour | None = None) -> dict[str, Any]:
        sky = self.sky(eff, query.location, hour)
        ranking = self.score_all(query.filter, sky, query.target, query.pantry)
        page = ranking.page(query.offset, query.limit)
        items = [self.item(s, sky, query, rank=query.offset + i + 1) for i, s in enumerate(page)]
        return {
            "recommendations": items,
            "total_count": len(ranking),
            "limit": query.limit,
            "offset": query.offset,
            "request_context": self.request_context(query, sky),
            "metadata": {
                "service": SERVICE_LABEL,
                "algorithm_version": ALGORITHM_VERSION,
                "calculation_method": CALCULATION_METHOD,
                "weights": dict(WEIGHTS),
                "planetary_hour": sky.hour_dict(),
                "calculated_for": _iso(eff),
            },
        }

    def request_context(self, query: RecipeQuery, sky: SkyContext) -> dict[str, Any]:
        elemental_state = (
            dict(zip(ELEMENTS, (round(v, 6) for v in query.target), strict=True))
            if query.target is not None
            else sky.elements_dict()
        )
        unresolved = [t.text for t in (*query.filter.exclude, *query.pantry) if t.slug is None]
        ctx: dict[str, Any] = {
            "timestamp": _iso(sky.at),
            "location": query.location.as_dict(),
            "elemental_state": elemental_state,
            "elemental_source": f"{query.target_source}_elements" if query.target is not None else "sky",
            "preferences": {
                "cuisines": list(query.filter.cuisines),
                "dietary_restrictions": list(query.filter.diets),
            },
            "filters": query.filter.as_dict(),
            "pantry": [{"input": t.text, "slug": t.slug} for t in query.pantry],
            "sky": sky.summary(),
            "planetary_hour": sky.hour_dict(),
        }
        if unresolved:
            ctx["unresolved_ingredients"] = unresolved
        return ctx

    def _static(self, entry: RecipeEntry) -> tuple[dict[str, Any], dict[str, str]]:
        found = self._summaries.get(entry.id)
        if found is None:
            found = self._summaries[entry.id] = (recipe_summary(entry), entry.ruling.as_dict())
        return found

    def item(self, s: Scored, sky: SkyContext, query: RecipeQuery, rank: int) -> dict[str, Any]:
        entry = s.entry
        summary_static, ruling = self._static(entry)
        reasons = explain(s, sky, query.target is not None)
        spirit, essence, matter, substance = sky.esms
        f, w, e, a = s.final
        thermo = thermodynamics(spirit, essence, matter, substance, f, w, e, a)
        total = f + w + e + a
        elemental = round(s.elemental, _ROUND)
        sky_score = round(s.sky, _ROUND)
        breakdown: dict[str, Any] = {
            "sky": sky_score,
            "elemental": elemental,
            "planetaryFavour": round(s.favour, _ROUND),
            "methodAffinity": round(entry.method_affinity, _ROUND),
            "weights": _WEIGHTS,
            # its condition now (sign, dignity, decan, hour, critical degree…): request_context.sky.planets
            "rulingPlanet": {**ruling, "skyScore": sky_score},
            "elementalMode": "caller_elements_compatibility" if query.target is not None else "sky_cosine",
            "favourablePlanets": entry.favourable,
            "methods": entry.affinity_methods,
        }
        if s.pantry_share is not None:
            breakdown["baseScore"] = round(s.base, _ROUND)
            breakdown["pantry"] = {
                "share": round(s.pantry_share, _ROUND),
                "uses": s.pantry_hits,
                "weight": PANTRY_WEIGHT,
            }
        summary = dict(summary_static)
        summary["elemental_score"] = elemental
        summary["planetary_alignment"] = sky_score
        summary["match_reasons"] = reasons
        summary["elements"] = (
            {
                "Fire": round(f / total, _ROUND),
                "Water": round(w / total, _ROUND),
                "Earth": round(e / total, _ROUND),
                "Air": round(a / total, _ROUND),
            }
            if total > 0
            else _EVEN
        )
        summary["elementsRegime"] = "recipe_pipeline"
        summary["thermodynamics"] = {
            "heat": round(thermo.heat, 6),
            "entropy": round(thermo.entropy, 6),
            "reactivity": round(thermo.reactivity, 6),
            "gregsEnergy": round(thermo.gregs_energy, 6),
            "kalchm": round(thermo.kalchm, 6),
            "monica": round(thermo.monica, 6),
        }
        return {
            "rank": rank,
            "recipe": summary,
            "score": round(s.score, _ROUND),
            "breakdown": breakdown,
            "reasons": reasons,
            "match_reasons": reasons,
        }

    # --- cuisines (KitchenBackendClient C1, /recommend/cuisines) -------------------------------------------

    def cuisines(
        self, query: RecipeQuery, eff: datetime, hour: PlanetaryHour | None = None
    ) -> dict[str, Any]:
        """Cuisines ranked by the mean of their three best recipe scores now (under the same filters)."""
        sky = self.sky(eff, query.location, hour)
        by_cuisine: dict[str, list[Scored]] = defaultdict(list)
        ranking = self.score_all(query.filter, sky, query.target, query.pantry)
        for position in range(len(ranking)):
            s = ranking.scored(position)
            by_cuisine[s.entry.cuisine_slug].append(s)
        rows: list[tuple[float, str, dict[str, Any]]] = []
        for slug, items in by_cuisine.items():
            top = items[:3]
            score = sum(t.score for t in top) / len(top)
            cuisine = self.index.catalog.cuisines.get(slug)
            rows.append(
                (
                    -score,
                    slug,
                    {
                        "slug": slug,
                        "name": cuisine.name if cuisine is not None else top[0].entry.cuisine_name,
                        "score": _r(score),
                        "recipeCount": len(items),
                        "topRecipes": [
                            {"id": t.entry.id, "name": t.entry.name, "score": _r(t.score)} for t in top
                        ],
                        "reasons": [f"Best now: {top[0].entry.name}"]
                        + explain(top[0], sky, query.target is not None)[:2],
                    },
                )
            )
        rows.sort(key=lambda r: (r[0], r[1]))
        page = [row for _, _, row in rows[query.offset : query.offset + query.limit]]
        return {
            "cuisines": page,
            "total_count": len(rows),
            "request_context": self.request_context(query, sky),
            "metadata": {
                "service": SERVICE_LABEL,
                "algorithm_version": ALGORITHM_VERSION,
                "calculation_method": "mean_of_top3_recipe_scores",
                "planetary_hour": sky.hour_dict(),
                "calculated_for": _iso(eff),
            },
        }


def _uses(entry: RecipeEntry, term: TermRef) -> bool:
    if term.slug is not None and term.slug in entry.slugs:
        return True
    n = len(term.words)
    if not n:
        return False
    for words in entry.line_words:
        for i in range(len(words) - n + 1):
            if words[i : i + n] == term.words:
                return True
    return False


def recipe_summary(entry: RecipeEntry) -> dict[str, Any]:
    """The recipe fields every list shows (the old response's ``recipe`` plus ours)."""
    recipe = entry.recipe
    return {
        "id": entry.id,
        "name": entry.name,
        "cuisine": entry.cuisine_name,
        "cuisine_slug": entry.cuisine_slug,
        "cuisine_detail": recipe.cuisine.detail,
        "meal_types": list(recipe.meal_types),
        "courses": list(recipe.courses),
        "seasons": list(recipe.seasons),
        "prep_time": entry.prep,
        "cook_time": entry.cook,
        "total_time": entry.total,
        "servings": recipe.servings,
        "difficulty": entry.difficulty,
        "difficulty_label": entry.difficulty_label,
        "spice_level": recipe.spice_level,
        "diet_tags": sorted(entry.diets_ok),
        "diet_notes": list(entry.diet_notes),
        "ingredient_count": len(recipe.ingredients),
        "url": f"/api/kitchen/recipes/{entry.id}",
    }


_ELEMENT_WORD: Final = {"Fire": "Fire", "Water": "Water", "Earth": "Earth", "Air": "Air"}


def explain(s: Scored, sky: SkyContext, caller_elements: bool) -> list[str]:
    """Short human reasons, most important first (at most five)."""
    entry = s.entry
    planet = entry.ruling.planet
    now = sky.planets[planet]
    sign = now.sign.capitalize()
    reasons: list[str] = []
    if s.pantry_hits:
        shown = ", ".join(s.pantry_hits[:3])
        reasons.append(f"Uses {len(s.pantry_hits)} of your ingredients: {shown}")
    if now.hour_ruler == planet:
        reasons.append(f"{planet} rules this hour and favours this {entry.dish_kind}")
    elif now.hour_bonus > 0:
        reasons.append(f"The {now.hour_ruler} hour is friendly to {planet}, this {entry.dish_kind}'s ruler")
    if now.dignity_label == "domicile":
        reasons.append(f"{planet} is at home in {sign}")
    elif now.dignity_label == "exaltation":
        reasons.append(f"{planet} is exalted in {sign}")
    elif now.dignity_label in {"detriment", "fall"}:
        reasons.append(f"{planet} is weakened in {sign} ({now.dignity_label})")
    if now.decan >= 1.0:
        reasons.append(f"{planet} rules the decan it occupies")
    final = s.final
    best = 0
    for i in range(1, 4):
        if final[i] > final[best]:
            best = i
    dish_dominant = ELEMENTS[best]
    if caller_elements:
        if s.elemental >= 0.85:
            reasons.append("Close to the elements you asked for")
        elif s.elemental <= 0.75:
            reasons.append("Far from the elements you asked for")
    elif s.elemental >= 0.85:
        if dish_dominant == sky.dominant:
            reasons.append(f"{_ELEMENT_WORD[dish_dominant]}-rich like the sky now")
        else:
            reasons.append("Its elements harmonise with the sky now")
    elif s.elemental <= 0.5:
        reasons.append(f"{_ELEMENT_WORD[dish_dominant]}-rich against a {sky.dominant}-leaning sky")
    if entry.method_affinity >= 0.9 and entry.affinity_methods:
        reasons.append(f"{entry.affinity_methods[0].capitalize()} channels {planet}")
    if s.favour >= 0.9 and entry.favourable:
        strong = [p for p in entry.favourable if sky.dignity.get(p, 0) >= 0.9]
        if strong:
            reasons.append(
                "Its favourable planets are strong today: "
                + ", ".join(f"{p} in {sky.planets[p].sign.capitalize()}" for p in strong[:2])
            )
    if now.critical > 0:
        reasons.append(f"{planet} sits on a critical degree of {sign}")
    if now.retrograde:
        reasons.append(f"{planet} is retrograde: keep the preparation simple")
    if not reasons:
        reasons.append(f"{planet} in {sign} gives moderate support")
    return reasons[:5]
