"""Loaders and small parsers for the collector stack files (`otel-collector.yaml`, `deploy/`)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COLLECTOR_CONFIG = ROOT / "otel-collector.yaml"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus.yml"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "datasources.yml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "flext-service.json"
DEPLOY_README = DEPLOY / "README.md"
README_SECTION = DEPLOY / "README_SECTION.md"

_TABLE_ROW = re.compile(
    r"^\|\s*`(?P<ip>[\d.]+):(?P<host>\d+)`\s*\|\s*(?P<service>[\w-]+)\s*\|\s*(?P<port>\d+)\s*\|",
    re.MULTILINE,
)


class Published(NamedTuple):
    """One `ports:` entry of a compose service."""

    host_ip: str
    host_port: int
    container_port: int


@functools.cache
def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML file whose top level is a mapping."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: top level is {type(data).__name__}, not a mapping"
    return data


@functools.cache
def load_json(path: Path) -> dict[str, Any]:
    """Parse a JSON file whose top level is an object."""
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: top level is {type(data).__name__}, not an object"
    return data


def services() -> dict[str, dict[str, Any]]:
    """The compose file's services by name."""
    result: dict[str, dict[str, Any]] = load_yaml(COMPOSE_FILE)["services"]
    return result


def published(service: dict[str, Any]) -> list[Published]:
    """Parse a service's `ports:` (short syntax `HOST_IP:HOST_PORT:CONTAINER_PORT` only)."""
    entries: list[Published] = []
    for entry in service.get("ports", []):
        assert isinstance(entry, str), f"long-syntax port entry {entry!r}: use IP:HOST:CONTAINER"
        parts = entry.split(":")
        assert len(parts) == 3, f"port {entry!r} does not name a host IP"
        entries.append(Published(parts[0], int(parts[1]), int(parts[2])))
    return entries


def reachable_ports(service: dict[str, Any]) -> set[int]:
    """Container ports a service declares to other containers (`ports` and `expose`)."""
    return {p.container_port for p in published(service)} | {
        int(port) for port in service.get("expose", [])
    }


def host_port(address: str) -> tuple[str, int]:
    """Split `host:port` or `scheme://host:port/path` into host and (explicit) port."""
    parts = urlsplit(address if "://" in address else f"//{address}")
    assert parts.hostname is not None, f"{address!r} has no host"
    assert parts.port is not None, f"{address!r} has no explicit port"
    return parts.hostname, parts.port


def port_table(path: Path) -> set[tuple[str, int, str, int]]:
    """Rows `(host ip, host port, service, container port)` of a markdown port table."""
    return {
        (m["ip"], int(m["host"]), m["service"], int(m["port"]))
        for m in _TABLE_ROW.finditer(path.read_text(encoding="utf-8"))
    }


def mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """`(source, container target)` of a service's short-syntax volumes."""
    result: list[tuple[str, str]] = []
    for entry in service.get("volumes", []):
        assert isinstance(entry, str), f"long-syntax volume {entry!r}: use SOURCE:TARGET[:ro]"
        source, target, *_mode = entry.split(":")
        result.append((source, target))
    return result
