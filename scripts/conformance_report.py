"""Print the golden-data conformance of the alchemy engines (design/domain.md §3, §4).

    .venv/bin/python scripts/conformance_report.py [golden_dir]

Prints "ESMS conformance 20/20, kalchm 12/12, thermo 5/5" (the counts of golden cases reproduced with
bit-exact float equality, plus the aspect tables) and exits 1 if anything does not match.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.alchemy import (  # noqa: E402
    ASPECT_EFFECT_TABLES,
    calculate_esms,
    kalchm,
    monica,
    parse_chart,
    thermodynamics,
)

AXES = ("spirit", "essence", "matter", "substance")


def _load(golden: Path, name: str) -> Any:
    with (golden / name).open(encoding="utf-8") as fh:
        return json.load(fh)


def conformance(golden: Path) -> dict[str, tuple[int, int]]:
    """``{"esms": (passed, total), "kalchm": ..., "thermo": ..., "aspect_tables": ...}``."""
    charts = _load(golden, "esms_conformance.json")["charts"]
    esms_ok = 0
    for chart in charts:
        result = calculate_esms(parse_chart(chart["planetary_positions"]), chart["is_diurnal"])
        esms_ok += all(getattr(result, axis) == chart["expected"][axis] for axis in AXES)

    vectors = _load(golden, "kalchm_golden_vectors.json")
    kalchm_ok = 0
    for v in vectors["vectors"]:
        k = kalchm(v["spirit"], v["essence"], v["matter"], v["substance"])
        kalchm_ok += (
            k == v["expectedKalchm"] and monica(v["gregsEnergy"], v["reactivity"], k) == v["expectedMonica"]
        )
    thermo_ok = 0
    for v in vectors["thermoVectors"]:
        t = thermodynamics(
            v["Spirit"],
            v["Essence"],
            v["Matter"],
            v["Substance"],
            v["Fire"],
            v["Water"],
            v["Earth"],
            v["Air"],
        )
        thermo_ok += (t.heat, t.entropy, t.reactivity, t.gregs_energy) == (
            v["expectedHeat"],
            v["expectedEntropy"],
            v["expectedReactivity"],
            v["expectedGregsEnergy"],
        )

    tables = _load(golden, "aspect_effects_golden.json")["tables"]
    ours = {pair: {t: list(e) for t, e in table.items()} for pair, table in ASPECT_EFFECT_TABLES.items()}
    aspect_ok = sum(ours.get(pair) == table for pair, table in tables.items())
    return {
        "esms": (esms_ok, len(charts)),
        "kalchm": (kalchm_ok, len(vectors["vectors"])),
        "thermo": (thermo_ok, len(vectors["thermoVectors"])),
        "aspect_tables": (aspect_ok, len(tables)),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    golden = Path(args[0]) if args else ROOT / "shared" / "data" / "golden"
    c = conformance(golden)
    print(
        f"ESMS conformance {c['esms'][0]}/{c['esms'][1]}, kalchm {c['kalchm'][0]}/{c['kalchm'][1]}, "
        f"thermo {c['thermo'][0]}/{c['thermo'][1]}"
    )
    print(f"aspect effect tables {c['aspect_tables'][0]}/{c['aspect_tables'][1]}")
    return 0 if all(ok == total for ok, total in c.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
