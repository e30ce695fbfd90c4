"""The rune engine: daily rune, casts, situation interpretation and the frontend's guidance mapping.

Pure functions over a :class:`~services.rune.runes.RuneSet` and sky facts (:class:`DaySky`,
:class:`MomentSky`) that the caller computes; no I/O, no clock, no global state. Every rule here is
described in ``docs/runes.md``.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

from services.rune.runes import Rune, RuneSet, Spread, stem, tokenize
from services.rune.sky import DaySky, MomentSky
from shared.alchemy.constants import ELEMENTS, ESMS_AXES, SECTARIAN_ESMS

__all__ = [
    "CAST_COUNTS",
    "DAILY_RULE",
    "CastResult",
    "DailyChoice",
    "Drawn",
    "Interpretation",
    "blend_elements",
    "cast",
    "choose_daily",
    "dominant_element",
    "guidance_energy",
    "interpret",
    "seed_rng",
]

CAST_COUNTS: Final = (1, 3, 9)
DAILY_HASH_PREFIX: Final = "alchm.kitchen/rune/daily/v1"
CAST_HASH_PREFIX: Final = "alchm.kitchen/rune/cast/v1"
PLANET_WEIGHT: Final = 2
ELEMENT_WEIGHT: Final = 1

DAILY_RULE: Final = (
    "Candidates are the runes ruled by the day's planetary ruler (the weekday ruler of the local date, "
    f"weight {PLANET_WEIGHT}) and the runes of the element of the Moon's sign at local noon "
    f"(weight {ELEMENT_WEIGHT}; a rune matching both weighs {PLANET_WEIGHT + ELEMENT_WEIGHT}). "
    "The first 8 bytes of SHA-256('alchm.kitchen/rune/daily/v1|<YYYY-MM-DD>|<user_id or empty>'), read as a "
    "big-endian integer modulo the total weight, pick one candidate walking the candidates in futhark order. "
    "The rune is drawn upright."
)

# ── elements ─────────────────────────────────────────────────────────────────────────────────────────────


def blend_elements(parts: Iterable[tuple[Mapping[str, float], float]]) -> dict[str, float]:
    """Weighted mean of element profiles, normalised to sum 1 (equal shares when there is no weight)."""
    total = dict.fromkeys(ELEMENTS, 0.0)
    weight_sum = 0.0
    for profile, weight in parts:
        if weight <= 0:
            continue
        weight_sum += weight
        for e in ELEMENTS:
            total[e] += weight * float(profile.get(e, 0.0))
    s = sum(total.values())
    if weight_sum <= 0 or s <= 0:
        return dict.fromkeys(ELEMENTS, 0.25)
    return {e: round(total[e] / s, 4) for e in ELEMENTS}


def dominant_element(profile: Mapping[str, float]) -> str:
    """Largest share; ties go to the canonical order Fire, Water, Earth, Air."""
    return max(ELEMENTS, key=lambda e: (profile.get(e, 0.0), -ELEMENTS.index(e)))


def element_advice(rune_set: RuneSet, profile: Mapping[str, float]) -> str:
    element = dominant_element(profile)
    methods = rune_set.element_methods[element]
    return f"{element} leads ({profile[element]:.0%}): favour {', '.join(methods[:-1])} or {methods[-1]}."


# ── daily rune ───────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class DailyCandidate:
    rune: Rune
    weight: int
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.rune.name, "weight": self.weight, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class DailyChoice:
    rune: Rune
    sky: DaySky
    candidates: tuple[DailyCandidate, ...]
    digest: str
    pick: int
    total_weight: int
    user_id: str | None

    def rule_dict(self) -> dict[str, Any]:
        return {
            "description": DAILY_RULE,
            "candidates": [c.to_dict() for c in self.candidates],
            "total_weight": self.total_weight,
            "hash": self.digest[:16],
            "pick": self.pick,
            "personalised": self.user_id is not None,
        }


def daily_candidates(rune_set: RuneSet, sky: DaySky) -> tuple[DailyCandidate, ...]:
    out: list[DailyCandidate] = []
    for rune in rune_set.runes:
        weight = 0
        reasons: list[str] = []
        if rune.planet == sky.day_ruler:
            weight += PLANET_WEIGHT
            reasons.append(f"ruled by {rune.planet}, ruler of {sky.local_date.strftime('%A')}")
        if rune.element == sky.moon_element:
            weight += ELEMENT_WEIGHT
            reasons.append(f"{rune.element} rune, like the Moon in {sky.moon_sign.capitalize()}")
        if weight:
            out.append(DailyCandidate(rune, weight, tuple(reasons)))
    return tuple(out)


def daily_digest(local_date: date, user_id: str | None) -> str:
    key = f"{DAILY_HASH_PREFIX}|{local_date.isoformat()}|{user_id or ''}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def choose_daily(rune_set: RuneSet, sky: DaySky, user_id: str | None = None) -> DailyChoice:
    """The daily rune for a local date (its sky) and an optional user id; see :data:`DAILY_RULE`."""
    candidates = daily_candidates(rune_set, sky)
    total = sum(c.weight for c in candidates)
    digest = daily_digest(sky.local_date, user_id)
    pick = int(digest[:16], 16) % total
    acc = 0
    chosen = candidates[-1]
    for cand in candidates:
        acc += cand.weight
        if pick < acc:
            chosen = cand
            break
    return DailyChoice(chosen.rune, sky, candidates, digest, pick, total, user_id)


# ── casting ──────────────────────────────────────────────────────────────────────────────────────────────


def seed_rng(seed: str | int | None) -> tuple[random.Random, bool]:
    """``(rng, seeded)``: ``random.Random`` seeded from SHA-256 of the seed, else ``secrets.SystemRandom``.

    An integer seed is used by its decimal text, so ``42`` and ``"42"`` give the same cast.
    """
    if seed is None:
        return secrets.SystemRandom(), False
    text = str(seed)
    digest = hashlib.sha256(f"{CAST_HASH_PREFIX}|{text}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big")), True


@dataclass(frozen=True, slots=True)
class Drawn:
    index: int
    position_key: str
    position_name: str
    position_meaning: str
    rune: Rune
    reversed: bool

    @property
    def meaning(self) -> str:
        return self.rune.meaning_for(self.reversed)

    @property
    def culinary_guidance(self) -> str:
        return self.rune.culinary_for(self.reversed)

    @property
    def weight(self) -> float:
        """Share in the combined elemental emphasis: 1 upright, 0.5 reversed (a blocked influence)."""
        return 0.5 if self.reversed else 1.0


#: The position whose rune speaks for the whole cast (its guidance leads the combined advice).
CENTRAL_POSITION: Final = {1: "focus", 3: "present", 9: "midgard"}


@dataclass(frozen=True, slots=True)
class CastResult:
    spread: Spread
    drawn: tuple[Drawn, ...]
    allow_reversed: bool
    elements: dict[str, float] = field(default_factory=dict)

    @property
    def central(self) -> Drawn:
        key = CENTRAL_POSITION[self.spread.count]
        return next(d for d in self.drawn if d.position_key == key)


def cast(rune_set: RuneSet, count: int, rng: random.Random, allow_reversed: bool = True) -> CastResult:
    """Draw ``count`` distinct runes (``rng.sample``), then one coin per drawn rune that can be reversed.

    Draw order is position order. The reversal coin (``rng.random() < 0.5``) is drawn only for reversible
    runes and only when ``allow_reversed``; the sequence of RNG calls is therefore fixed by the seed.
    """
    if count not in rune_set.spreads:
        raise ValueError(f"count must be one of {tuple(rune_set.spreads)}")
    spread = rune_set.spreads[count]
    runes = rng.sample(rune_set.runes, count)
    drawn: list[Drawn] = []
    for i, (rune, pos) in enumerate(zip(runes, spread.positions, strict=True)):
        rev = bool(allow_reversed and rune.reversible and rng.random() < 0.5)
        drawn.append(Drawn(i, pos.key, pos.name, pos.meaning, rune, rev))
    elements = blend_elements((d.rune.recommended_elements, d.weight) for d in drawn)
    return CastResult(spread, tuple(drawn), allow_reversed=allow_reversed, elements=elements)


def cast_guidance(rune_set: RuneSet, result: CastResult) -> str:
    central = result.central
    lead = f"{central.position_name}: {central.rune.name}{' (reversed)' if central.reversed else ''}. "
    return lead + central.culinary_guidance + " " + element_advice(rune_set, result.elements)


# ── situation interpretation ─────────────────────────────────────────────────────────────────────────────

MAX_RUNES: Final = 3
#: A rune joins the answer when its score is at least this share of the best score.
RUNE_SHARE: Final = 0.5


@dataclass(frozen=True, slots=True)
class ThemeHit:
    key: str
    label: str
    score: int
    matched: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"theme": self.key, "label": self.label, "score": self.score, "matched": list(self.matched)}


@dataclass(frozen=True, slots=True)
class RuneScore:
    rune: Rune
    score: float
    themes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Interpretation:
    tokens: int
    themes: tuple[ThemeHit, ...]
    ranked: tuple[RuneScore, ...]  # the runes returned (1–3), best first
    elements: dict[str, float]
    matched: bool


def match_themes(rune_set: RuneSet, text: str) -> tuple[int, tuple[ThemeHit, ...]]:
    """Tokenise, fold, stem; count lexicon hits per theme (a token counts once for each theme it names)."""
    tokens = tokenize(text)
    counts: dict[str, int] = {}
    words: dict[str, list[str]] = {}
    for token in tokens:
        for theme in rune_set.stem_index.get(stem(token), ()):
            counts[theme] = counts.get(theme, 0) + 1
            if token not in words.setdefault(theme, []):
                words[theme].append(token)
    order = {t.key: i for i, t in enumerate(rune_set.themes)}
    hits = sorted(counts, key=lambda k: (-counts[k], order[k]))
    return len(tokens), tuple(ThemeHit(k, rune_set.theme(k).label, counts[k], tuple(words[k])) for k in hits)


def interpret(rune_set: RuneSet, text: str) -> Interpretation:
    """Score each rune by Σ theme hits × the rune's theme weight; keep up to three (``docs/runes.md``)."""
    n_tokens, themes = match_themes(rune_set, text)
    theme_score = {h.key: h.score for h in themes}
    scored: list[RuneScore] = []
    for rune in rune_set.runes:
        total = 0.0
        contributing: list[str] = []
        for key, weight in rune.themes.items():
            if key in theme_score:
                total += theme_score[key] * weight
                contributing.append(key)
        if total > 0:
            scored.append(RuneScore(rune, round(total, 6), tuple(contributing)))
    scored.sort(key=lambda s: (-s.score, s.rune.position))
    if not scored:
        return Interpretation(n_tokens, themes, (), dict.fromkeys(ELEMENTS, 0.25), matched=False)
    best = scored[0].score
    chosen = tuple(s for s in scored[:MAX_RUNES] if s.score >= RUNE_SHARE * best)
    elements = blend_elements((s.rune.recommended_elements, s.score) for s in chosen)
    return Interpretation(n_tokens, themes, chosen, elements, matched=True)


# ── guidance (the frontend's RuneResult) ─────────────────────────────────────────────────────────────────

Intensity = Literal["mild", "moderate", "intense"]
#: Share of the rune's own element profile; the rest is an even 0.25 each.
INTENSITY_SHARE: Final[Mapping[str, float]] = {"mild": 0.5, "moderate": 0.75, "intense": 1.0}
RUNE_PLANET_ENERGY_WEIGHT: Final = 0.75
HOUR_RULER_ENERGY_WEIGHT: Final = 0.25


def guidance_elements(rune: Rune, intensity: Intensity) -> dict[str, float]:
    share = INTENSITY_SHARE[intensity]
    even = dict.fromkeys(ELEMENTS, 0.25)
    return blend_elements([(rune.recommended_elements, share), (even, 1.0 - share)])


def guidance_energy(rune: Rune, moment: MomentSky) -> dict[str, float]:
    """ESMS: 0.75 × the sectarian unit of the rune's planet + 0.25 × that of the planetary-hour ruler.

    Both rows come from :data:`shared.alchemy.constants.SECTARIAN_ESMS` for the moment's sect. The values
    sum to 1 and are never random.
    """
    rune_row = SECTARIAN_ESMS[rune.planet][moment.sect]
    hour_row = SECTARIAN_ESMS[moment.hour_ruler][moment.sect]
    return {
        axis: round(RUNE_PLANET_ENERGY_WEIGHT * rune_row[axis] + HOUR_RULER_ENERGY_WEIGHT * hour_row[axis], 4)
        for axis in ESMS_AXES
    }


def context_sentence(
    rune_set: RuneSet, rune: Rune, context: str | None, ingredient_names: Sequence[str]
) -> str | None:
    if context is None:
        return None
    template = rune_set.context_guidance[context]
    methods = rune_set.element_methods[rune.element]
    return template.format(
        element=rune.element,
        rune=rune.name,
        ingredients=", ".join(ingredient_names) if ingredient_names else "the season's produce",
        methods=", ".join(methods[:-1]) + " or " + methods[-1],
    )
