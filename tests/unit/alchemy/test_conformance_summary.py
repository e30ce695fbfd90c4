"""One summary of every golden case (the per-case tests only assert)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from tests.unit.alchemy.conftest import GOLDEN_DIR

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "conformance_report.py"


def test_conformance_summary(capsys: pytest.CaptureFixture[str]) -> None:
    namespace = runpy.run_path(str(SCRIPT))
    assert namespace["main"]([str(GOLDEN_DIR)]) == 0
    out = capsys.readouterr().out
    assert "ESMS conformance 20/20, kalchm 12/12, thermo 5/5" in out
    assert "aspect effect tables 5/5" in out
