"""Coverage audit of the catalog: how much of the recipe data resolves and normalises.

Used by ``scripts/catalog_report.py`` (which writes docs/catalog-unresolved.md) and by the tests that pin the
measured shares. Deterministic: counts only, no timings.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from shared.catalog.diet import DIETS, recipe_diets
from shared.catalog.loader import DATA_DIR, RECIPES_FILE
from shared.catalog.methods import normalize_method
from shared.catalog.models import Catalog
from shared.catalog.resolver import IngredientResolver
from shared.catalog.units import parse_unit, to_grams

__all__ = ["Coverage", "measure_coverage", "raw_recipe_units"]


@dataclass(frozen=True, slots=True)
class Coverage:
    lines: int
    resolved: int
    non_food: int
    by_stage: dict[str, int]
    unresolved: Counter[str]
    unit_entries: int
    units_known: int
    unknown_units: Counter[str]
    raw_unit_entries: int
    raw_units_known: int
    raw_unknown_units: Counter[str]
    method_entries: int
    methods_known: int
    unknown_methods: Counter[str]
    diet_verdicts: dict[str, Counter[str]]
    claimed_diet_conflicts: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def resolved_share(self) -> float:
        return self.resolved / self.lines if self.lines else 0.0

    @property
    def units_known_share(self) -> float:
        return self.units_known / self.unit_entries if self.unit_entries else 0.0

    @property
    def raw_units_known_share(self) -> float:
        return self.raw_units_known / self.raw_unit_entries if self.raw_unit_entries else 0.0

    @property
    def methods_known_share(self) -> float:
        return self.methods_known / self.method_entries if self.method_entries else 0.0


def raw_recipe_units(data_dir: Path | None = None) -> list[str | None]:
    """Every unit string of the upstream recipe lines, as written (before any repair)."""
    raw = json.loads((Path(data_dir or DATA_DIR) / RECIPES_FILE).read_text(encoding="utf-8"))
    return [
        line.get("unit") if isinstance(line.get("unit"), str) else None
        for rec in raw
        for line in rec.get("ingredients", [])
        if isinstance(line, dict)
    ]


def measure_coverage(
    catalog: Catalog, resolver: IngredientResolver, data_dir: Path | None = None
) -> Coverage:
    lines = [line for rec in catalog.recipes.values() for line in rec.ingredients]
    by_stage: Counter[str] = Counter()
    unresolved: Counter[str] = Counter()
    units_known = 0
    unknown_units: Counter[str] = Counter()
    resolved = non_food = 0
    for line in lines:
        res = resolver.resolve(line.name)
        by_stage[res.matched_by or "unresolved"] += 1
        if res.ingredient is not None:
            resolved += 1
        elif res.non_food:
            non_food += 1
        else:
            unresolved[line.name.strip().lower()] += 1
        grams = to_grams(line.amount, line.unit, res.ingredient, name=line.name)
        if grams.known:
            units_known += 1
        else:
            unknown_units[line.unit or ""] += 1
    raw_units = raw_recipe_units(data_dir)
    raw_unknown: Counter[str] = Counter(u or "" for u in raw_units if parse_unit(u).canonical is None)
    methods = [m for rec in catalog.recipes.values() for m in rec.cooking_methods]
    unknown_methods: Counter[str] = Counter(m.raw for m in methods if m.canonical is None)
    verdicts: dict[str, Counter[str]] = {d: Counter() for d in DIETS}
    conflicts: list[tuple[str, str, str]] = []
    for rec in catalog.recipes.values():
        report = recipe_diets(rec, resolver)
        for diet, verdict in report.verdicts.items():
            verdicts[diet][str(verdict.satisfied)] += 1
        for claimed in rec.claimed_diets:
            claim = report.verdicts.get(claimed)
            if claim is not None and claim.satisfied is not True:
                why = (
                    "; ".join(f"{v.line} ({', '.join(v.flags)})" for v in claim.violations)
                    if claim.violations
                    else "unresolved: " + "; ".join(claim.unresolved)
                )
                conflicts.append((rec.id, claimed, why))
    return Coverage(
        lines=len(lines),
        resolved=resolved,
        non_food=non_food,
        by_stage=dict(by_stage),
        unresolved=unresolved,
        unit_entries=len(lines),
        units_known=units_known,
        unknown_units=unknown_units,
        raw_unit_entries=len(raw_units),
        raw_units_known=len(raw_units) - sum(raw_unknown.values()),
        raw_unknown_units=raw_unknown,
        method_entries=len(methods),
        methods_known=sum(1 for m in methods if normalize_method(m.raw) is not None),
        unknown_methods=unknown_methods,
        diet_verdicts=verdicts,
        claimed_diet_conflicts=conflicts,
    )
