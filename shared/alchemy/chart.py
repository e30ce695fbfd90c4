"""Chart input: body positions, validated and canonicalised (design/domain.md §3; domain-analysis §3.7).

A *chart* is an ordered mapping ``{body: ChartPoint | sign}`` with canonical body names ("Sun".."Pluto",
"Ascendant"). Its key order is the order the ESMS engine sums contributions in, which matters for
bit-exactness (domain.md §3), so :func:`parse_chart` preserves the caller's order.

A value is either a :class:`ChartPoint` (an object position: sign and optionally degree/minute/longitude/
distance) or a bare lowercase sign string. The difference is meaningful: a bare sign takes part in no
aspect, while a sign-only *object* takes part at degree 0 (domain.md §3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.alchemy.constants import IGNORED_BODY_KEYS, SIGN_INDEX, SIGNS, canonical_body

__all__ = ["Chart", "ChartError", "ChartPoint", "parse_chart"]


class ChartError(ValueError):
    """Invalid chart input. ``field`` names the offending field (e.g. ``positions.Sun.sign``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One body's position.

    ``degree`` is the degree within the sign [0, 30), ``minute`` arc-minutes [0, 60) added to it,
    ``longitude`` the absolute tropical ecliptic longitude [0, 360) (wins over sign + degree when given),
    ``distance`` the geocentric distance in AU (only used for Λ, and only when > 0).
    """

    sign: str | None
    degree: float | None = None
    minute: float | None = None
    longitude: float | None = None
    distance: float | None = None

    def __post_init__(self) -> None:
        if self.sign is not None and self.sign not in SIGN_INDEX:
            raise ChartError("sign", f"unknown zodiac sign {self.sign!r} (signs are lowercase, e.g. 'leo')")
        if self.sign is None and self.longitude is None:
            raise ChartError("sign", "a ChartPoint needs a sign or a longitude")

    @property
    def lon(self) -> float | None:
        """Absolute longitude: ``longitude``, else sign·30 + degree (+ minute/60); ``None`` if no degree.

        This is the longitude dignity is scored at (``None`` → sign-mean dignity) and aspects are
        measured from (``None`` → degree 0 of the sign, domain.md §3).
        """
        if self.longitude is not None:
            return self.longitude
        if self.degree is None or self.sign is None:
            return None
        base = SIGN_INDEX[self.sign] * 30 + self.degree
        if self.minute is not None:
            return base + self.minute / 60
        return base

    @property
    def resolved_sign(self) -> str:
        """The sign, derived from ``longitude`` when not given."""
        if self.sign is not None:
            return self.sign
        if self.longitude is None:  # unreachable: __post_init__ requires one of the two
            raise ChartError("sign", "a ChartPoint needs a sign or a longitude")
        return SIGNS[int(self.longitude // 30) % 12]

    @property
    def degree_in_sign(self) -> float:
        """Degree within the sign (0 when unknown): ``degree``, else derived from ``longitude``."""
        if self.degree is not None:
            return self.degree
        if self.longitude is not None:
            return self.longitude - int(self.longitude // 30) * 30
        return 0.0


#: A parsed chart: canonical body → position (an object position or a bare sign string).
Chart = Mapping[str, "ChartPoint | str"]

_LONGITUDE_KEYS = ("longitude", "exactLongitude", "exact_longitude")
_DISTANCE_KEYS = ("distance", "distanceAu", "distance_au")


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ChartError(field, f"must be a number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out):
        raise ChartError(field, "must be a finite number")
    return out


def _sign(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ChartError(field, f"must be a zodiac sign name, got {type(value).__name__}")
    sign = value.strip().lower()
    if sign not in SIGN_INDEX:
        raise ChartError(field, f"unknown zodiac sign {value!r}")
    return sign


def _first(raw: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        if key in raw and raw[key] is not None:
            return key, raw[key]
    return None, None


def _parse_point(raw: Mapping[str, Any], field: str, distances: bool) -> ChartPoint:
    sign = _sign(raw["sign"], f"{field}.sign") if raw.get("sign") is not None else None

    key, value = _first(raw, _LONGITUDE_KEYS)
    longitude = None
    if key is not None:
        longitude = _number(value, f"{field}.{key}")
        if not 0.0 <= longitude < 360.0:
            raise ChartError(f"{field}.{key}", f"longitude {longitude} is outside [0, 360)")
        from_lon = SIGNS[int(longitude // 30)]
        if sign is None:
            sign = from_lon
        elif sign != from_lon:
            raise ChartError(
                f"{field}.sign", f"sign {sign!r} contradicts longitude {longitude} (which is in {from_lon})"
            )
    if sign is None:
        raise ChartError(field, "needs a sign or a longitude")

    degree = None
    if raw.get("degree") is not None:
        degree = _number(raw["degree"], f"{field}.degree")
        if not 0.0 <= degree < 30.0:
            raise ChartError(f"{field}.degree", f"degree {degree} is outside [0, 30)")

    minute = None
    if raw.get("minute") is not None:
        minute = _number(raw["minute"], f"{field}.minute")
        if not 0.0 <= minute < 60.0:
            raise ChartError(f"{field}.minute", f"minute {minute} is outside [0, 60)")
        if degree is None and longitude is None:
            raise ChartError(f"{field}.minute", "minute given without a degree")

    distance = None
    key, value = _first(raw, _DISTANCE_KEYS)
    if key is not None:
        distance = _number(value, f"{field}.{key}")
        if distance < 0.0:
            raise ChartError(f"{field}.{key}", f"distance {distance} is negative")
        if not distances:
            distance = None

    return ChartPoint(sign=sign, degree=degree, minute=minute, longitude=longitude, distance=distance)


def parse_chart(
    raw: Mapping[str, Any],
    *,
    distances: bool = True,
    strict: bool = False,
    prefix: str = "positions",
) -> dict[str, ChartPoint | str]:
    """Validate and canonicalise a chart (design/domain.md §3; domain-analysis §3.7).

    Accepted values per body: ``{"sign", "degree"?, "minute"?, "distance"?}`` (the conformance format),
    ``{"longitude"}`` / ``{"exactLongitude"}`` (sign derived, or checked when also given), the position
    records of the ephemeris wrapper (extra keys such as ``retrograde`` are ignored), and bare sign strings
    (``{"Sun": "leo"}``). ``distanceAu``/``distance_au`` are aliases of ``distance``; pass
    ``distances=False`` for the live sky, whose Λ is the mass weight alone (domain.md §3). A ``None`` value
    means "position unknown" and the body is skipped.

    Body names are matched case-insensitively to Sun..Pluto and Ascendant. Nodes, Chiron, Lilith, Vertex,
    Pars Fortune and MC/Midheaven are ignored silently; other unknown names are ignored too (both upstream
    runtimes skip them) unless ``strict`` is true, in which case they raise.

    Raises :class:`ChartError` (a ``ValueError`` with ``field`` and ``reason``) on an unknown sign, a degree
    outside [0, 30), a minute outside [0, 60), a longitude outside [0, 360), a non-finite or non-numeric
    number, a negative distance, a sign contradicting the longitude, or a body given twice.
    The returned dict keeps the input order (it is the ESMS summation order).
    """
    if not isinstance(raw, Mapping):
        raise ChartError(
            prefix, f"must be an object mapping body names to positions, got {type(raw).__name__}"
        )
    chart: dict[str, ChartPoint | str] = {}
    for key, value in raw.items():
        field = f"{prefix}.{key}"
        if not isinstance(key, str):
            raise ChartError(field, "body names must be strings")
        body = canonical_body(key)
        if body is None:
            if strict and "".join(key.split()).lower() not in IGNORED_BODY_KEYS:
                raise ChartError(field, f"unknown body {key!r}")
            continue
        if value is None:
            continue
        if body in chart:
            raise ChartError(field, f"{body} is given more than once")
        if isinstance(value, str):
            chart[body] = _sign(value, field)
        elif isinstance(value, Mapping):
            chart[body] = _parse_point(value, field, distances)
        else:
            raise ChartError(field, f"must be a position object or a sign name, got {type(value).__name__}")
    return chart
