"""Thermodynamics of an (ESMS, elements) state: heat, entropy, reactivity, Greg's Energy, K_alchm, Monica
(design/domain.md §4; canonical TS ``alchemicalCalculations.ts``).

    heat       = (S² + F²) / (Su + E + M + W + A + Ea)²
    entropy    = (S² + Su² + F² + A²) / (E + M + Ea + W)²
    reactivity = (S² + Su² + E² + F² + A² + W²) / (M + Ea)²
    G          = heat − entropy × reactivity
    K_alchm    = (S^S · E^E) / (M^M · Su^Su)           negatives (and NaN) clamped to 0, 0^0 = 1
    Monica     = −G / (R_safe · ln K)

Sums are evaluated left to right in exactly the order written above and squares are ``x * x``; the
golden vectors (``shared/data/golden/kalchm_golden_vectors.json``) pin every result bit for bit.

Totality — these functions never raise and never return NaN or ±inf, for any float input:

* a denominator > 0 divides exactly; a denominator of exactly 0 divides by ``THERMO_DEN_FLOOR`` (0.01);
  a NaN denominator (a NaN or ±inf input) gives NaN, which the finite-guard turns into 0;
* a non-finite heat, entropy, reactivity or G (NaN inputs, inf inputs, or squares overflowing past
  ~1.3e154) becomes 0 — G is formed from the unguarded values, then guarded, as in the TS engine;
* K: negative and NaN axes count as 0; ``+inf`` axes and any axis above ≈ 143.0 (where ``x ** x`` would
  raise ``OverflowError`` in Python and JavaScript silently yields Infinity) give K = 1.0, as does any
  non-finite or non-positive quotient;
* Monica: φ (1.618) when K is degenerate (|ln K| < ``MONICA_LN_EPSILON``, which includes every K = 1.0
  fallback) or when the quotient is not finite; |R| < 0.01 is replaced by ±0.01 (sign of R, + for 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.alchemy.constants import (
    MONICA_LN_EPSILON,
    MONICA_REACTIVITY_FLOOR,
    PHI,
    THERMO_DEN_FLOOR,
)

__all__ = ["Thermodynamics", "kalchm", "monica", "monica_is_degenerate", "thermo_quotient", "thermodynamics"]

_isfinite = math.isfinite


def thermo_quotient(numerator: float, denominator: float) -> float:
    """num/den for den > 0; num/0.01 at den == 0 (the published pole cap); NaN for a NaN denominator."""
    if denominator > 0:
        return numerator / denominator
    if denominator == 0:
        return numerator / THERMO_DEN_FLOOR
    return math.nan


def kalchm(spirit: float, essence: float, matter: float, substance: float) -> float:
    """K_alchm = (S^S · E^E) / (M^M · Su^Su); 1.0 whenever the value is not a finite positive number.

    Negative and NaN axes are clamped to 0 (0^0 = 1 exactly). Overflow (an axis above ≈ 143.0, or +inf
    times 0) yields 1.0, matching the TS engine where ``Math.pow`` returns Infinity instead of raising.
    """
    s = spirit if spirit > 0 else 0.0
    e = essence if essence > 0 else 0.0
    m = matter if matter > 0 else 0.0
    su = substance if substance > 0 else 0.0
    try:
        value = ((s**s) * (e**e)) / ((m**m) * (su**su))
    except (OverflowError, ZeroDivisionError):
        return 1.0
    if not _isfinite(value) or value <= 0:
        return 1.0
    return value


def monica(gregs_energy: float, reactivity: float, kalchm: float) -> float:
    """Monica = −G / (R_safe · ln K); φ when K is degenerate or the result is not finite (domain.md §4)."""
    if not _isfinite(kalchm) or kalchm <= 0:
        return PHI
    ln_k = math.log(kalchm)
    if abs(ln_k) < MONICA_LN_EPSILON:
        return PHI
    safe_r = reactivity
    if abs(reactivity) < MONICA_REACTIVITY_FLOOR:
        safe_r = math.copysign(MONICA_REACTIVITY_FLOOR, reactivity if reactivity else 1.0)
    try:
        value = -gregs_energy / (safe_r * ln_k)
    except ZeroDivisionError:  # unreachable: |safe_r| ≥ 0.01 and |ln K| ≥ ε — kept for totality
        return PHI
    return value if _isfinite(value) else PHI


def monica_is_degenerate(reactivity: float, kalchm: float) -> bool:
    """The frontend's "monica-degenerate" test: ¬(|ln K| ≥ ε ∧ R ≠ 0) (K = 1.0 fallbacks included)."""
    ln_k = math.log(kalchm) if _isfinite(kalchm) and kalchm > 0 else 0.0
    return not (abs(ln_k) >= MONICA_LN_EPSILON and reactivity != 0)


@dataclass(frozen=True, slots=True)
class Thermodynamics:
    """The six thermodynamic quantities; all finite by construction."""

    heat: float
    entropy: float
    reactivity: float
    gregs_energy: float
    kalchm: float
    monica: float

    @property
    def monica_degenerate(self) -> bool:
        """True when Monica is the φ fallback or the frontend would flag it "monica-degenerate"."""
        return self.monica == PHI or monica_is_degenerate(self.reactivity, self.kalchm)

    def as_dict(self) -> dict[str, float]:
        """Wire form: heat, entropy, reactivity, gregsEnergy, kalchm, monica."""
        return {
            "heat": self.heat,
            "entropy": self.entropy,
            "reactivity": self.reactivity,
            "gregsEnergy": self.gregs_energy,
            "kalchm": self.kalchm,
            "monica": self.monica,
        }


def thermodynamics(
    spirit: float,
    essence: float,
    matter: float,
    substance: float,
    fire: float,
    water: float,
    earth: float,
    air: float,
) -> Thermodynamics:
    """All six quantities from ESMS and elements (domain.md §4). Total: see the module docstring.

    Note the argument order: elements are (fire, water, earth, air), the canonical element order.
    """
    s, e, m, su = spirit, essence, matter, substance
    f, w, ea, a = fire, water, earth, air
    s2 = s * s
    su2 = su * su
    f2 = f * f
    a2 = a * a
    heat_den = su + e + m + w + a + ea
    heat = thermo_quotient(s2 + f2, heat_den * heat_den)
    entropy_den = e + m + ea + w
    entropy = thermo_quotient(s2 + su2 + f2 + a2, entropy_den * entropy_den)
    reactivity_den = m + ea
    reactivity = thermo_quotient(s2 + su2 + e * e + f2 + a2 + w * w, reactivity_den * reactivity_den)
    gregs = heat - entropy * reactivity

    heat = heat if _isfinite(heat) else 0.0
    entropy = entropy if _isfinite(entropy) else 0.0
    reactivity = reactivity if _isfinite(reactivity) else 0.0
    gregs = gregs if _isfinite(gregs) else 0.0

    k = kalchm(s, e, m, su)
    return Thermodynamics(
        heat=heat,
        entropy=entropy,
        reactivity=reactivity,
        gregs_energy=gregs,
        kalchm=k,
        monica=monica(gregs, reactivity, k),
    )
