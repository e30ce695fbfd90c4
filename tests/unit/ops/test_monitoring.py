"""The monitoring configs reference only metrics that exist.

The upstream's Prometheus/alert files named ~30 metrics that no code ever exported
(design/reference/frontend-contract-analysis.md §5.5). Here every metric name used in an alert rule or in
the Grafana dashboard must be defined by our code (``shared/metrics.py`` and any other metrics module
under ``shared/`` or ``services/``: the names are read from the source, no import needed), or be one of
a few documented exporter metrics whose exporter runs in the production compose file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.cli import SERVICES

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "monitoring"
ALERTS = sorted((MONITORING / "alerts").glob("*.yml"))
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))


def _yaml() -> Any:
    try:
        import yaml as pyyaml
    except ImportError:  # PyYAML is not a declared dependency of the project
        pytest.skip("PyYAML is not installed: YAML files not parsed")
    return pyyaml


#: Metrics exported by something other than our code, and where they come from. The exporter (a compose
#: service name) must run in docker-compose.production.yml.
EXTERNAL_METRICS = {
    "up": None,  # Prometheus itself, for every target
    "pg_up": "postgres-exporter",
    "redis_up": "redis-exporter",
    "nginx_up": "nginx-exporter",
}

_DEFINITION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary|Info|Enum|CounterMetricFamily|GaugeMetricFamily|"
    r"HistogramMetricFamily|SummaryMetricFamily|InfoMetricFamily)\(\s*[\"']([A-Za-z_:][A-Za-z0-9_:]*)[\"']"
)

_AGGREGATIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
}
_FUNCTIONS = {
    "abs",
    "absent",
    "absent_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "delta",
    "deriv",
    "exp",
    "floor",
    "histogram_avg",
    "histogram_count",
    "histogram_fraction",
    "histogram_quantile",
    "histogram_stddev",
    "histogram_stdvar",
    "histogram_sum",
    "holt_winters",
    "double_exponential_smoothing",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "ln",
    "log2",
    "log10",
    "minute",
    "month",
    "predict_linear",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sort",
    "sort_desc",
    "sqrt",
    "time",
    "timestamp",
    "vector",
    "year",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "quantile_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "last_over_time",
    "present_over_time",
    "mad_over_time",
}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless"}
_KEYWORDS |= {"offset"}
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def defined_series() -> dict[str, str]:
    """Every series name our code can export → the module defining it."""
    series: dict[str, str] = {}
    for folder in ("shared", "services"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for kind, name in _DEFINITION.findall(text):
                where = str(path.relative_to(ROOT))
                if kind.startswith("Counter"):
                    base = name.removesuffix("_total")
                    names = [f"{base}_total", f"{base}_created"]
                elif kind.startswith("Histogram"):
                    names = [f"{name}_bucket", f"{name}_count", f"{name}_sum", f"{name}_created"]
                elif kind.startswith("Summary"):
                    names = [name, f"{name}_count", f"{name}_sum", f"{name}_created"]
                elif kind.startswith("Info"):
                    names = [f"{name}_info"]
                else:
                    names = [name]
                for series_name in names:
                    series.setdefault(series_name, where)
    return series


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (strings, label matchers, ranges, grouping clauses,
    Grafana variables and numbers removed; functions and keywords skipped). Unknown functions are
    reported as ``name(`` so that a typo cannot hide."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    text = re.sub(r"\b\d+(\.\d+)?([eE][-+]?\d+)?[smhdwy]?\b", " ", text)
    found: set[str] = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?", text):
        word = match.group(0).rstrip("( \t\n")
        is_call = match.group(1) is not None
        if word in _KEYWORDS:
            continue
        if is_call:
            if word not in _FUNCTIONS and word not in _AGGREGATIONS:
                found.add(word + "(")
            continue
        if word in _AGGREGATIONS:  # "sum by (x) (...)": the call parenthesis comes after the clause
            continue
        found.add(word)
    return found


def _alert_rules() -> list[dict[str, Any]]:
    pyyaml = _yaml()
    rules: list[dict[str, Any]] = []
    for path in ALERTS:
        data = pyyaml.safe_load(path.read_text())
        for group in data["groups"]:
            rules.extend(group["rules"])
    return rules


def _dashboard_exprs() -> list[str]:
    exprs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    exprs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        walk(dashboard.get("panels", []))
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            if isinstance(query, str):
                m = re.fullmatch(r"\s*label_values\(\s*(.*?)\s*,\s*\w+\s*\)\s*", query)
                exprs.append(m.group(1) if m else query)
    return exprs


def _check(exprs: list[str], what: str) -> None:
    ours = defined_series()
    problems = []
    for expr in exprs:
        for name in sorted(metric_names(expr)):
            if name.endswith("("):
                problems.append(f"{what}: unknown PromQL function {name!r} in {expr!r}")
            elif name not in ours and name not in EXTERNAL_METRICS:
                problems.append(f"{what}: metric {name!r} is exported by nothing (expr: {expr.strip()!r})")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------------------


def test_the_parser_finds_metric_names() -> None:
    expr = """
      (sum by (service) (rate(alchm_http_requests_total{status=~"5.."}[5m])) / on(service) group_left
       histogram_quantile(0.95, sum without (le) (rate(foo_bucket{a="b"}[$__rate_interval] offset 1h))))
      > 0.05 and up{job=~"x"} == 0 or vector(1) unless bar
    """
    assert metric_names(expr) == {"alchm_http_requests_total", "foo_bucket", "up", "bar"}
    assert metric_names("typo_fn(alchm_x)") == {"typo_fn(", "alchm_x"}


def test_the_core_metrics_are_defined() -> None:
    ours = defined_series()
    for name in (
        "alchm_http_requests_total",
        "alchm_http_request_duration_seconds_bucket",
        "alchm_http_requests_in_flight",
        "alchm_dependency_failures_total",
        "alchm_cache_events_total",
        "alchm_service_info",
    ):
        assert ours.get(name) == "shared/metrics.py", name


def test_alert_rules_use_only_existing_metrics() -> None:
    rules = _alert_rules()
    assert rules
    _check([rule["expr"] for rule in rules], "alert")


def test_alert_rules_are_complete() -> None:
    rules = _alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    for rule in rules:
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "")), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
    for wanted in (
        "AlchmTargetDown",
        "AlchmHighErrorRatio",
        "AlchmHighLatencyP95",
        "AlchmInFlightSaturation",
        "AlchmDependencyFailures",
    ):
        assert wanted in names


def test_dashboard_uses_only_existing_metrics() -> None:
    exprs = _dashboard_exprs()
    assert len(exprs) >= 10
    _check(exprs, "dashboard")


def test_dashboard_is_well_formed() -> None:
    datasource = _yaml().safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    uid = datasource["datasources"][0]["uid"]
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == uid, panel["title"]
                assert panel["targets"], panel["title"]


def test_external_metrics_have_their_exporter_deployed() -> None:
    compose = _yaml().safe_load((ROOT / "docker-compose.production.yml").read_text())
    for metric, exporter in EXTERNAL_METRICS.items():
        if exporter is not None:
            assert exporter in compose["services"], (
                f"{metric} needs {exporter} in docker-compose.production.yml"
            )


@pytest.mark.parametrize("filename", ["prometheus.yml", "prometheus.dev.yml"])
def test_prometheus_scrapes_every_service_directly(filename: str) -> None:
    config = _yaml().safe_load((MONITORING / filename).read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts/*.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for entry in SERVICES.values():
        job = jobs[f"alchm-{entry.name}"]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        assert targets and all(t.endswith(f":{entry.port}") for t in targets), targets
        assert all(t.split(":")[0].startswith(entry.name) for t in targets), targets
    if filename == "prometheus.yml":
        for exporter_job in ("postgres", "redis", "nginx"):
            assert exporter_job in jobs


def test_alertmanager_routes_to_a_defined_receiver() -> None:
    config = _yaml().safe_load((MONITORING / "alertmanager.yml").read_text())
    receivers = {r["name"] for r in config["receivers"]}
    assert config["route"]["receiver"] in receivers
    for route in config["route"].get("routes", []):
        assert route["receiver"] in receivers


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install prometheus prometheus-alertmanager)")
    return path


def test_promtool_accepts_the_rules_and_their_unit_tests() -> None:
    promtool = _tool("promtool")
    for path in ALERTS:
        result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    tests = MONITORING / "alerts" / "tests" / "alchm-alerts.test.yml"
    result = subprocess.run(
        [promtool, "test", "rules", tests.name], cwd=tests.parent, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("filename", ["prometheus.yml", "prometheus.dev.yml"])
def test_promtool_accepts_the_prometheus_config(filename: str, tmp_path: Path) -> None:
    promtool = _tool("promtool")
    shutil.copytree(MONITORING / "alerts", tmp_path / "alerts")
    text = (MONITORING / filename).read_text().replace("/etc/prometheus/alerts/", f"{tmp_path}/alerts/")
    (tmp_path / filename).write_text(text)
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / filename)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_accepts_the_alertmanager_config() -> None:
    amtool = _tool("amtool")
    result = subprocess.run(
        [amtool, "check-config", str(MONITORING / "alertmanager.yml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
