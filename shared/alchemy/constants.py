"""Tables and constants of the alchemical engines (design/domain.md §1, §3, §4).

Everything here is immutable data computed once at import. The values are the ones pinned by the golden
files in ``shared/data/golden/`` (``esms_conformance.json`` and ``kalchm_golden_vectors.json``); the tests
assert equality with those files, so a drift in either direction fails loudly.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Final

from shared.zodiac import PLANETS, SIGNS

__all__ = [
    "ASCENDANT",
    "ASCENDANT_VESSEL_WEIGHT",
    "BODIES",
    "CHALDEAN_ORDER",
    "CLASSICAL_PLANETS",
    "ELEMENTS",
    "ESMS_AXES",
    "IGNORED_BODY_KEYS",
    "INERTIAL_MASS_WEIGHT",
    "MEAN_GEOCENTRIC_AU",
    "MODALITIES",
    "MONICA_EQUILIBRIUM",
    "MONICA_LN_EPSILON",
    "MONICA_REACTIVITY_FLOOR",
    "PHI",
    "PLANETS",
    "PLANET_MASS",
    "SECTARIAN_ELEMENTS",
    "SECTARIAN_ESMS",
    "SIGNS",
    "SIGN_ELEMENT",
    "SIGN_INDEX",
    "SIGN_MODALITY",
    "THERMO_DEN_FLOOR",
    "X_POW_X_GLOBAL_MINIMUM",
    "canonical_body",
    "inertial_mass_weight",
]

# ── Vocabulary (domain.md §1) ───────────────────────────────────────────────────────────────────────────

#: Canonical element order; ties are broken in this order unless a caller says otherwise.
ELEMENTS: Final = ("Fire", "Water", "Earth", "Air")

#: The four alchemical quantities, in the order every table here uses: [Spirit, Essence, Matter, Substance].
ESMS_AXES: Final = ("Spirit", "Essence", "Matter", "Substance")

#: Zodiac signs (``shared.zodiac.SIGNS``): index i covers longitudes [30·i, 30·i + 30).
SIGN_INDEX: Final = MappingProxyType({sign: i for i, sign in enumerate(SIGNS)})

#: Sign → element (domain-analysis §1.2): Fire, Earth, Air, Water repeating from Aries.
SIGN_ELEMENT: Final = MappingProxyType(
    {sign: ("Fire", "Earth", "Air", "Water")[i % 4] for i, sign in enumerate(SIGNS)}
)

MODALITIES: Final = ("Cardinal", "Fixed", "Mutable")
#: Sign → modality: Cardinal, Fixed, Mutable repeating from Aries.
SIGN_MODALITY: Final = MappingProxyType({sign: MODALITIES[i % 3] for i, sign in enumerate(SIGNS)})

#: The ten bodies that carry ESMS, in canonical order (Sun..Pluto): ``shared.zodiac.PLANETS``.
ASCENDANT: Final = "Ascendant"
#: Every body the engines accept: the ten planets plus the Ascendant.
BODIES: Final = (*PLANETS, ASCENDANT)

#: The seven classical planets (only they hold triplicity, term and face).
CLASSICAL_PLANETS: Final = ("Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn")

#: Chaldean order, slowest to fastest (faces and planetary hours, domain.md §7).
CHALDEAN_ORDER: Final = ("Saturn", "Jupiter", "Mars", "Sun", "Venus", "Mercury", "Moon")

#: Body keys that are silently ignored (compared lowercased, whitespace removed; domain-analysis §3.7).
IGNORED_BODY_KEYS: Final = frozenset(
    {
        "midheaven",
        "truenode",
        "northnode",
        "southnode",
        "chiron",
        "lilith",
        "vertex",
        "parsfortune",
        "meannode",
        "mc",
    }
)

_BODY_BY_LOWER: Final = MappingProxyType({b.lower(): b for b in BODIES})


def canonical_body(name: str) -> str | None:
    """Canonical body name ("Sun".."Pluto", "Ascendant") for ``name``, case-insensitively; else ``None``."""
    found = _BODY_BY_LOWER.get(name)
    if found is not None:
        return found
    return _BODY_BY_LOWER.get(name.strip().lower())


# ── Layer 1: sectarian ESMS (domain.md §3; golden: kalchm_golden_vectors.json planetarySectarianEsms) ────


def _unit(axis: str) -> MappingProxyType[str, float]:
    return MappingProxyType({a: (1.0 if a == axis else 0.0) for a in ESMS_AXES})


_SECT_AXES: Final = {
    # body: (diurnal axis, nocturnal axis) — each planet gives one unit to one quantity per sect.
    "Sun": ("Spirit", "Spirit"),
    "Moon": ("Essence", "Matter"),
    "Mercury": ("Spirit", "Substance"),
    "Venus": ("Essence", "Matter"),
    "Mars": ("Essence", "Matter"),
    "Jupiter": ("Spirit", "Essence"),
    "Saturn": ("Spirit", "Matter"),
    "Uranus": ("Essence", "Matter"),
    "Neptune": ("Essence", "Substance"),
    "Pluto": ("Essence", "Matter"),
}
_ALL_ONE: Final = MappingProxyType(dict.fromkeys(ESMS_AXES, 1.0))

#: ``SECTARIAN_ESMS[body]["diurnal" | "nocturnal"][axis]``. The Ascendant row (1,1,1,1) is the table's own
#: entry; the ESMS engine does not use it for the Ascendant (it uses the positional vessel, §3.3).
SECTARIAN_ESMS: Final = MappingProxyType(
    {
        **{
            body: MappingProxyType({"diurnal": _unit(day), "nocturnal": _unit(night)})
            for body, (day, night) in _SECT_AXES.items()
        },
        ASCENDANT: MappingProxyType({"diurnal": _ALL_ONE, "nocturnal": _ALL_ONE}),
    }
)

#: Sectarian element of each planet, (diurnal, nocturnal) (domain-analysis §1.3).
SECTARIAN_ELEMENTS: Final = MappingProxyType(
    {
        "Sun": ("Fire", "Fire"),
        "Moon": ("Water", "Water"),
        "Mercury": ("Air", "Earth"),
        "Venus": ("Water", "Earth"),
        "Mars": ("Fire", "Water"),
        "Jupiter": ("Air", "Fire"),
        "Saturn": ("Air", "Earth"),
        "Uranus": ("Water", "Air"),
        "Neptune": ("Water", "Water"),
        "Pluto": ("Earth", "Water"),
    }
)

# ── Λ: inertial mass weight × relative distance (domain.md §3, domain-analysis §3.2) ────────────────────

#: Relative masses, Earth = 1 (golden: esms_conformance.json ``mass_weights``).
PLANET_MASS: Final = MappingProxyType(
    {
        "Sun": 333054.2532,
        "Jupiter": 317.8165,
        "Saturn": 95.1608,
        "Neptune": 17.1467,
        "Uranus": 14.5362,
        "Earth": 1.0,
        "Venus": 0.815,
        "Mars": 0.107,
        "Mercury": 0.055,
        "Moon": 0.0123,
        "Pluto": 0.0022,
    }
)

#: Mean geocentric distance r̄ in AU over the 2026 epoch (golden: ``epoch_mean_geocentric_au``).
MEAN_GEOCENTRIC_AU: Final = MappingProxyType(
    {
        "Sun": 1.0001517506922113,
        "Moon": 0.002571016680904456,
        "Mercury": 1.0527771261580632,
        "Venus": 1.0162138470401183,
        "Mars": 1.9442585501420186,
        "Jupiter": 5.429789190115696,
        "Saturn": 9.484384119258557,
        "Uranus": 19.49876988921305,
        "Neptune": 29.88354939796314,
        "Pluto": 35.52718536398905,
    }
)

#: The Ascendant is the "physical vessel": its Λ is the ruled constant 1.0 (no mass, no distance).
ASCENDANT_VESSEL_WEIGHT: Final = 1.0

# Log scale anchored one decade below Pluto (so no charted body weighs 0) and at the Sun (weight exactly 1).
_INERTIAL_LOG_MIN: Final = math.log10(0.0022 / 10.0)
_INERTIAL_LOG_MAX: Final = math.log10(333054.2532)


def inertial_mass_weight(body: str) -> float:
    """M̂ of ``body`` on the log-normalised mass scale (Sun 1.0, Pluto ≈ 0.109; domain-analysis §3.2).

    The Ascendant is the ruled vessel weight 1.0; an unknown body falls back to Earth's mass (≈ 0.398),
    exactly as both upstream runtimes do (the engines never pass one).
    """
    if body == ASCENDANT:
        return ASCENDANT_VESSEL_WEIGHT
    mass = PLANET_MASS.get(body, 1.0)
    return (math.log10(max(mass, 1e-9)) - _INERTIAL_LOG_MIN) / (_INERTIAL_LOG_MAX - _INERTIAL_LOG_MIN)


#: Precomputed M̂ for the eleven bodies.
INERTIAL_MASS_WEIGHT: Final = MappingProxyType({body: inertial_mass_weight(body) for body in BODIES})

# ── Thermodynamics (domain.md §4; golden: kalchm_golden_vectors.json ``constants``) ─────────────────────

#: Half-width of the degenerate band of |ln K| inside which Monica is φ.
MONICA_LN_EPSILON: Final = 0.10939293407637272
#: φ as the engines spell it (1.618, not the full golden ratio): Monica's equilibrium value.
PHI: Final = 1.618
MONICA_EQUILIBRIUM: Final = PHI
#: |reactivity| below this is replaced by ±this in Monica's denominator.
MONICA_REACTIVITY_FLOOR: Final = 0.01
#: A zero heat/entropy/reactivity denominator divides by this instead (an API contract, not a derivation).
THERMO_DEN_FLOOR: Final = 0.01
#: min over x ≥ 0 of x**x (at x = 1/e): why K's denominator can never be 0.
X_POW_X_GLOBAL_MINIMUM: Final = 0.6922006275556402
