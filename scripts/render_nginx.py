#!/usr/bin/env python3
"""Render the gateway template (``nginx/gateway.conf.template``) into a complete ``nginx.conf``.

Standard library only: ``deploy-backend.sh`` may run it before the project is installed.

Profiles
  local        (default) one plain-HTTP server on ``--listen``; pid file, logs and temp files under
               ``--prefix``; upstreams on 127.0.0.1 at each service's own port unless ``--upstream`` says
               otherwise. Runs with ``nginx -p PREFIX -c FILE`` as root or not, daemon or not. Used by
               ``deploy-backend.sh`` (``var/nginx/nginx.conf``) and by the e2e tests.
  dev          the gateway of ``docker-compose.yml`` (committed as ``nginx/nginx.dev.conf``): port 80 in
               the container, one instance per service by compose DNS name, logs to stdout/stderr.
  production   the gateway of ``docker-compose.production.yml`` (committed as
               ``nginx/nginx.production.conf``): TLS on 443 (certificates from the ``./nginx/ssl`` volume),
               HTTP->HTTPS redirect, HSTS, 2 alchemical-core and 2 kitchen-intelligence instances, an
               internal status server on :8081.

Examples
  render_nginx.py --prefix var/nginx --listen 127.0.0.1:8080 -o var/nginx/nginx.conf
  render_nginx.py --upstream core=127.0.0.1:8000,127.0.0.1:8010   # two alchemical-core instances
  render_nginx.py --upstream rune=                                 # rune not running: 502 JSON there
  render_nginx.py --write-committed                                # regenerate nginx/nginx.*.conf
  render_nginx.py --check-committed                                # exit 1 if they are stale

Placeholders in the template are ``{{NAME}}``; substitution is a single pass, so values may themselves contain
``{{PORT}}``/``{{PREFIX}}`` (the test harness's own placeholders, filled in by ``NginxServer``).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "nginx" / "gateway.conf.template"
COMMITTED = {
    "dev": REPO_ROOT / "nginx" / "nginx.dev.conf",
    "production": REPO_ROOT / "nginx" / "nginx.production.conf",
}
PROFILES = ("local", "dev", "production")
#: Template lines up to and including this one (the template's own header) are not rendered.
CUT_LINE = "# ---8<---\n"

DEFAULT_WORKER_CONNECTIONS = 32768
DEFAULT_RLIMIT_NOFILE = 65536
#: Docker's embedded DNS server (user-defined networks): lets NGINX follow containers that restart with
#: a new address (``server ... resolve``, open-source NGINX >= 1.27.3; the compose files pin 1.28).
DOCKER_RESOLVER = "127.0.0.11"


@dataclass(frozen=True)
class Upstream:
    """One upstream block of the template; mirrors ``shared.cli.SERVICES`` (a unit test keeps them equal)."""

    key: str  # the template's {{KEY_SERVERS}} and the --upstream KEY
    service: str  # the service name (shared.cli.SERVICES key, compose service name)
    port: int
    prefix: str  # public path prefix at the gateway
    production_instances: int = 1


FLEET: tuple[Upstream, ...] = (
    Upstream("core", "alchemical-core", 8000, "/api/alchemical/", production_instances=2),
    Upstream("kitchen", "kitchen-intelligence", 8100, "/api/kitchen/", production_instances=2),
    Upstream("realtime", "realtime", 8001, "/ws/"),
    Upstream("rune", "rune", 8002, "/api/runes/"),
    Upstream("analytics", "analytics", 8003, "/api/analytics/"),
)
_BY_NAME = (
    {u.key: u for u in FLEET}
    | {u.service: u for u in FLEET}
    | {
        "ws": FLEET[2],
        "runes": FLEET[3],
    }
)

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
_ADDRESS = re.compile(r"^(?:unix:/\S+|\[[0-9A-Fa-f:.]+\]:\d{1,5}|[A-Za-z0-9.{}_-]+:[0-9{}A-Z]{1,8})$")


class RenderError(ValueError):
    pass


def _server_lines(addresses: Sequence[str], *, resolve: bool) -> str:
    if not addresses:
        return "        server 127.0.0.1:9 down;  # not running: its routes answer 502 JSON"
    lines = []
    for address in addresses:
        if not _ADDRESS.match(address):
            raise RenderError(f"bad upstream address {address!r} (want host:port)")
        suffix = " resolve" if resolve else ""
        lines.append(f"        server {address} max_fails=3 fail_timeout=10s{suffix};")
    return "\n".join(lines)


def parse_upstreams(specs: Sequence[str]) -> dict[str, list[str]]:
    """``["core=127.0.0.1:8000,127.0.0.1:8010", "rune="]`` -> ``{"core": [...], "rune": []}``."""
    result: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        upstream = _BY_NAME.get(name.strip())
        if not sep or upstream is None:
            known = ", ".join(u.key for u in FLEET)
            raise RenderError(
                f"bad --upstream {spec!r}: want NAME=host:port[,host:port…] with NAME in {known}"
            )
        result[upstream.key] = [part.strip() for part in value.split(",") if part.strip()]
    return result


def _hard_nofile_limit() -> int | None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if hard == resource.RLIM_INFINITY else int(hard)


def _extra_servers(profile: str) -> str:
    status = """
    # Internal server (port 8081, never published): NGINX's own status for nginx-prometheus-exporter.
    server {
        listen 8081;
        server_name _;
        access_log off;
        location = /nginx_status {
            stub_status;
            allow 127.0.0.1;
            allow 10.0.0.0/8;
            allow 172.16.0.0/12;
            allow 192.168.0.0/16;
            deny all;
        }
        location = /health {
            return 200 '{"status":"ok","service":"gateway"}';
        }
        location / {
            return 404 '{"error":"NOT_FOUND","message":"not found","request_id":"$alchm_request_id"}';
        }
    }
"""
    if profile == "dev":
        return status
    if profile == "production":
        redirect = """
    # Plain HTTP: ACME HTTP-01 challenges, a health answer for probes, everything else -> HTTPS.
    server {
        listen 80 default_server;
        server_name _;
        location /.well-known/acme-challenge/ {
            root /var/www/certbot;
            default_type text/plain;
        }
        location = /health {
            access_log off;
            return 200 '{"status":"ok","service":"gateway"}';
        }
        location / {
            return 301 https://$host$request_uri;
        }
    }
"""
        return status + redirect
    return ""


#: Mozilla "intermediate" TLS 1.2 suites (TLS 1.3 suites are not configurable here and all fine).
_TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)

_PRODUCTION_LISTEN = """        listen 443 ssl default_server;
        http2 on;
        ssl_certificate /etc/nginx/ssl/fullchain.pem;
        ssl_certificate_key /etc/nginx/ssl/privkey.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {ciphers};
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:alchm_tls:20m;
        ssl_session_timeout 1d;
        ssl_session_tickets off;""".replace("{ciphers}", _TLS12_CIPHERS)

_HSTS = "max-age=63072000; includeSubDomains"
_PRODUCTION_HEADERS = f"""        add_header Strict-Transport-Security "{_HSTS}" always;
        add_header X-Frame-Options DENY always;
        add_header Referrer-Policy strict-origin-when-cross-origin always;
        add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;"""


def render(
    *,
    profile: str = "local",
    listen: str = "127.0.0.1:8080",
    prefix: str | os.PathLike[str] = "var/nginx",
    upstreams: Mapping[str, Sequence[str]] | None = None,
    pid_file: str | None = None,
    error_log: str | None = None,
    access_log: str | None = None,
    temp_dir: str | None = None,
    user: str | None = None,
    worker_processes: str = "auto",
    worker_connections: int | None = None,
    rlimit_nofile: int | None = None,
    template: str | None = None,
) -> str:
    """Return the complete nginx.conf text for ``profile``. ``upstreams`` maps an upstream key (or service
    name) to its ``host:port`` list; an empty list marks the service as not running."""
    if profile not in PROFILES:
        raise RenderError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    text = template if template is not None else TEMPLATE.read_text(encoding="utf-8")
    _, cut, rest = text.partition(CUT_LINE)
    if cut:
        text = rest
    source = "rendered by scripts/render_nginx.py from nginx/gateway.conf.template"
    text = f"# alchm.kitchen gateway ({profile}): {source}\n#\n" + text
    given = {(_BY_NAME[k].key if k in _BY_NAME else k): list(v) for k, v in (upstreams or {}).items()}
    unknown = set(given) - {u.key for u in FLEET}
    if unknown:
        raise RenderError(f"unknown upstream(s): {', '.join(sorted(unknown))}")

    values: dict[str, str] = {"WORKER_PROCESSES": worker_processes}
    if profile == "local":
        root = str(prefix)
        values |= {
            "USER_LINE": f"user {user};" if user else "# (no user directive: as root, workers run as nobody)",
            "PID_FILE": pid_file or f"{root}/nginx.pid",
            "ERROR_LOG": error_log or f"{root}/logs/error.log",
            "ACCESS_LOG": access_log or f"{root}/logs/access.log",
            "TEMP_DIR": temp_dir or f"{root}/tmp",
            "RESOLVER": "",
            "PUBLIC_LISTEN": f"        listen {listen} backlog=4096;",
            "SECURITY_HEADERS": "",
            "EXTRA_SERVERS": "",
        }
        nofile = rlimit_nofile or DEFAULT_RLIMIT_NOFILE
        # Stay within the hard limit: raising it needs CAP_SYS_RESOURCE, which even root lacks in most
        # containers (NGINX would log a setrlimit alert per worker and keep the old limit).
        hard = _hard_nofile_limit()
        if hard is not None and rlimit_nofile is None:
            nofile = min(nofile, hard)
        connections = worker_connections or min(DEFAULT_WORKER_CONNECTIONS, max(nofile - 64, 512))
        defaults = {u.key: [f"127.0.0.1:{u.port}"] for u in FLEET}
        resolve = False
    else:
        values |= {
            "USER_LINE": f"user {user or 'nginx'};",
            "PID_FILE": pid_file or "/var/run/nginx.pid",
            "ERROR_LOG": error_log or "/dev/stderr",
            "ACCESS_LOG": access_log or "/dev/stdout",
            "TEMP_DIR": temp_dir or "/var/cache/nginx",
            "RESOLVER": f"\n    resolver {DOCKER_RESOLVER} valid=10s ipv6=off;\n    resolver_timeout 5s;\n",
            "PUBLIC_LISTEN": "        listen 80 default_server;" if profile == "dev" else _PRODUCTION_LISTEN,
            "SECURITY_HEADERS": "" if profile == "dev" else _PRODUCTION_HEADERS,
            "EXTRA_SERVERS": _extra_servers(profile),
        }
        nofile = rlimit_nofile or DEFAULT_RLIMIT_NOFILE
        connections = worker_connections or DEFAULT_WORKER_CONNECTIONS
        if profile == "dev":
            defaults = {u.key: [f"{u.service}:{u.port}"] for u in FLEET}
        else:
            defaults = {
                u.key: (
                    [f"{u.service}-{i}:{u.port}" for i in range(1, u.production_instances + 1)]
                    if u.production_instances > 1
                    else [f"{u.service}:{u.port}"]
                )
                for u in FLEET
            }
        resolve = True
    values["RLIMIT_NOFILE"] = str(nofile)
    values["WORKER_CONNECTIONS"] = str(connections)
    for u in FLEET:
        values[f"{u.key.upper()}_SERVERS"] = _server_lines(given.get(u.key, defaults[u.key]), resolve=resolve)

    missing: set[str] = set()

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            missing.add(name)
            return match.group(0)
        return values[name]

    out = _PLACEHOLDER.sub(substitute, text)
    if missing:
        raise RenderError(f"template placeholders without a value: {', '.join(sorted(missing))}")
    return out


def committed_text(profile: str) -> str:
    """The exact text of the committed ``nginx/nginx.<profile>.conf``."""
    header = (
        "# GENERATED FILE, do not edit: change nginx/gateway.conf.template (or scripts/render_nginx.py),\n"
        "# then run: python3 scripts/render_nginx.py --write-committed\n"
    )
    return header + render(profile=profile)


def _write_or_check(check: bool) -> int:
    stale = []
    for profile, path in COMMITTED.items():
        text = committed_text(profile)
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(REPO_ROOT)))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    if stale:
        print("stale (run scripts/render_nginx.py --write-committed): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Render the alchm.kitchen gateway config from nginx/gateway.conf.template.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--profile", choices=PROFILES, default="local")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--listen", default="127.0.0.1:8080", help="local profile: address:port to listen on")
    parser.add_argument("--prefix", default="var/nginx", help="local profile: NGINX prefix (-p) directory")
    parser.add_argument("--upstream", action="append", default=[], metavar="NAME=HOST:PORT[,HOST:PORT]")
    parser.add_argument("--pid")
    parser.add_argument("--error-log")
    parser.add_argument("--access-log")
    parser.add_argument("--temp-dir")
    parser.add_argument("--user", help="user directive (only meaningful when NGINX starts as root)")
    parser.add_argument("--worker-processes", default="auto")
    parser.add_argument("--worker-connections", type=int)
    parser.add_argument("--rlimit-nofile", type=int)
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument("--write-committed", action="store_true", help="regenerate the committed configs")
    parser.add_argument(
        "--check-committed", action="store_true", help="exit 1 if a committed config is stale"
    )
    args = parser.parse_args(argv)

    if args.write_committed or args.check_committed:
        return _write_or_check(check=args.check_committed)
    prefix = args.prefix
    if args.profile == "local" and "{{" not in prefix:
        prefix = str(Path(prefix).resolve())
    try:
        text = render(
            profile=args.profile,
            listen=args.listen,
            prefix=prefix,
            upstreams=parse_upstreams(args.upstream),
            pid_file=args.pid,
            error_log=args.error_log,
            access_log=args.access_log,
            temp_dir=args.temp_dir,
            user=args.user,
            worker_processes=args.worker_processes,
            worker_connections=args.worker_connections,
            rlimit_nofile=args.rlimit_nofile,
            template=args.template.read_text(encoding="utf-8"),
        )
    except (RenderError, OSError) as exc:
        print(f"render_nginx: {exc}", file=sys.stderr)
        return 2
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.output.with_name(args.output.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
