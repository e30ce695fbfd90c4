"""The names every engine shares: the twelve tropical signs (lowercase, Aries first) and the ten bodies that
carry ESMS (Sun..Pluto, canonical order). One definition; ``shared.alchemy``, ``shared.astro`` and
``shared.catalog`` re-export them."""

from __future__ import annotations

from typing import Final

SIGNS: Final[tuple[str, ...]] = (
    "aries",
    "taurus",
    "gemini",
    "cancer",
    "leo",
    "virgo",
    "libra",
    "scorpio",
    "sagittarius",
    "capricorn",
    "aquarius",
    "pisces",
)

PLANETS: Final[tuple[str, ...]] = (
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
)
