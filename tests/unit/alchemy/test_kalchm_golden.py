"""kalchm/monica and thermodynamics golden vectors, bit-exact (design/domain.md §4)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.alchemy import (
    MONICA_LN_EPSILON,
    MONICA_REACTIVITY_FLOOR,
    PHI,
    SECTARIAN_ESMS,
    THERMO_DEN_FLOOR,
    kalchm,
    monica,
    thermodynamics,
)
from shared.alchemy.constants import X_POW_X_GLOBAL_MINIMUM
from tests.unit.alchemy.conftest import KALCHM_GOLDEN

VECTORS = KALCHM_GOLDEN["vectors"]
THERMO = KALCHM_GOLDEN["thermoVectors"]


def test_counts() -> None:
    assert len(VECTORS) == 12
    assert len(THERMO) == 5


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"][:40] for v in VECTORS])
def test_kalchm_and_monica(v: dict[str, Any]) -> None:
    k = kalchm(v["spirit"], v["essence"], v["matter"], v["substance"])
    assert k == v["expectedKalchm"]
    assert monica(v["gregsEnergy"], v["reactivity"], k) == v["expectedMonica"]


@pytest.mark.parametrize("v", THERMO, ids=[v["name"][:40] for v in THERMO])
def test_thermodynamics(v: dict[str, Any]) -> None:
    t = thermodynamics(
        v["Spirit"], v["Essence"], v["Matter"], v["Substance"], v["Fire"], v["Water"], v["Earth"], v["Air"]
    )
    assert t.heat == v["expectedHeat"]
    assert t.entropy == v["expectedEntropy"]
    assert t.reactivity == v["expectedReactivity"]
    assert t.gregs_energy == v["expectedGregsEnergy"]


def test_thermo_as_dict_keys() -> None:
    t = thermodynamics(4, 3, 2, 1, 2, 1, 0.5, 1.5)
    assert list(t.as_dict()) == ["heat", "entropy", "reactivity", "gregsEnergy", "kalchm", "monica"]
    assert t.kalchm == 1728
    assert t.monica == monica(t.gregs_energy, t.reactivity, t.kalchm)


def test_constants_match_golden() -> None:
    c = KALCHM_GOLDEN["constants"]
    assert c["MONICA_LN_EPSILON"] == MONICA_LN_EPSILON
    assert c["MONICA_EQUILIBRIUM"] == PHI
    assert c["MONICA_REACTIVITY_FLOOR"] == MONICA_REACTIVITY_FLOOR
    assert c["X_POW_X_GLOBAL_MINIMUM"] == X_POW_X_GLOBAL_MINIMUM
    assert c["THERMO_DEN_FLOOR"] == THERMO_DEN_FLOOR


def test_sectarian_table_equals_golden() -> None:
    ours = {body: {sect: dict(row) for sect, row in sects.items()} for body, sects in SECTARIAN_ESMS.items()}
    assert ours == KALCHM_GOLDEN["planetarySectarianEsms"]


def test_overflow_matches_the_ts_engine() -> None:
    # Python's x ** x raises above ~143; the TS engine gets Infinity and falls back to (1, φ).
    assert kalchm(180.0, 3.0, 2.0, 1.0) == 1.0
    assert kalchm(1.0, 1.0, 150.0, 1.0) == 1.0
    t = thermodynamics(180.0, 40.0, 25.0, 30.0, 0.3, 0.2, 0.3, 0.2)
    assert (t.kalchm, t.monica) == (1.0, PHI)
    assert t.monica_degenerate
