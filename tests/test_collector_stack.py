"""The collector stack (`otel-collector.yaml`, `deploy/`) is consistent without running Docker.

Docker cannot run here, so these tests check what can be checked statically: every file parses,
every pipeline component is defined and used, and the ports agree between the collector, the
compose file, Prometheus, Grafana and the two READMEs' port tables.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import PurePosixPath
from typing import Any

import pytest

from _stack_files import (
    COLLECTOR_CONFIG,
    COMPOSE_FILE,
    DASHBOARD_PROVIDERS,
    DATASOURCES,
    DEPLOY,
    DEPLOY_README,
    PROMETHEUS_CONFIG,
    README_SECTION,
    ROOT,
    host_port,
    load_yaml,
    mounts,
    port_table,
    published,
    reachable_ports,
    services,
)

SECTIONS = ("receivers", "processors", "exporters")
# Component types that are current in otelcol-contrib 0.144+ (the compose file pins 0.147.0);
# `logging` was removed, `otlp`/`otlphttp` exporters are deprecated aliases of these.
CURRENT_TYPES = {
    "receivers": {"otlp"},
    "processors": {"memory_limiter", "batch", "resource"},
    "exporters": {"otlp_grpc", "otlp_http", "prometheus", "debug"},
    "extensions": {"health_check"},
}


def collector() -> dict[str, Any]:
    """The parsed collector configuration."""
    return load_yaml(COLLECTOR_CONFIG)


def pipelines() -> dict[str, dict[str, list[str]]]:
    """`service.pipelines` of the collector configuration."""
    result: dict[str, dict[str, list[str]]] = collector()["service"]["pipelines"]
    return result


def test_collector_config_has_the_expected_pipelines() -> None:
    """Traces, metrics and logs each go OTLP -> memory_limiter -> batch -> backend + debug."""
    chain = {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"]}
    assert pipelines() == {
        "traces": {**chain, "exporters": ["otlp_grpc/jaeger", "debug"]},
        "metrics": {**chain, "exporters": ["prometheus", "debug"]},
        "logs": {**chain, "exporters": ["otlp_http/loki", "debug"]},
    }


def test_every_component_is_defined_and_used() -> None:
    """Each referenced component is defined in its section and each defined one is used."""
    config = collector()
    for section in SECTIONS:
        used = {name for pipeline in pipelines().values() for name in pipeline[section]}
        assert used == set(config[section]), section
    assert set(config["service"]["extensions"]) == set(config["extensions"])


def test_components_use_current_type_names() -> None:
    """Every component type (the part before `/`) is a current, non-deprecated name."""
    config = collector()
    for section, allowed in CURRENT_TYPES.items():
        types = {name.split("/", 1)[0] for name in config[section]}
        assert types <= allowed, (section, types - allowed)


def test_processors_run_memory_limiter_first_and_batch_last() -> None:
    """memory_limiter is the first processor of every pipeline and batch the last."""
    for name, pipeline in pipelines().items():
        processors = pipeline["processors"]
        assert (processors[0], processors[-1]) == ("memory_limiter", "batch"), name


def test_component_settings() -> None:
    """Receivers, exporters and the health extension carry the documented settings."""
    config = collector()
    assert config["receivers"] == {
        "otlp": {
            "protocols": {
                "grpc": {"endpoint": "0.0.0.0:4317"},
                "http": {"endpoint": "0.0.0.0:4318"},
            }
        }
    }
    exporters = config["exporters"]
    assert exporters["otlp_grpc/jaeger"] == {"endpoint": "jaeger:4317", "tls": {"insecure": True}}
    assert exporters["otlp_http/loki"] == {"endpoint": "http://loki:3100/otlp"}
    assert exporters["debug"] == {"verbosity": "basic"}
    assert exporters["prometheus"]["endpoint"] == "0.0.0.0:8889"
    assert exporters["prometheus"]["resource_to_telemetry_conversion"] == {"enabled": True}
    assert config["extensions"] == {"health_check": {"endpoint": "0.0.0.0:13133"}}


def test_memory_limiter_fits_the_container() -> None:
    """check_interval is set, spike < limit, and the limit stays below the container's memory."""
    limiter = collector()["processors"]["memory_limiter"]
    assert limiter["check_interval"] == "1s"
    assert 0 < limiter["spike_limit_mib"] < limiter["limit_mib"]
    mem_limit = services()["otel-collector"]["mem_limit"]
    match = re.fullmatch(r"(\d+)m", mem_limit)
    assert match is not None, mem_limit
    assert limiter["limit_mib"] < int(match[1])


def test_compose_has_the_five_services_on_pinned_images() -> None:
    """The compose file runs collector, Jaeger, Prometheus, Loki and Grafana, images pinned."""
    found = services()
    assert set(found) == {"otel-collector", "jaeger", "prometheus", "loki", "grafana"}
    for name, service in found.items():
        image = service["image"]
        assert ":" in image, name
        assert not image.endswith(":latest"), name
    assert found["otel-collector"]["image"].startswith("otel/opentelemetry-collector-contrib:")
    for service in found.values():
        assert set(service.get("depends_on", [])) <= set(found)


def test_compose_mounts_point_to_files_in_the_repo() -> None:
    """Every bind mount's source exists; every named volume is declared."""
    declared = set(load_yaml(COMPOSE_FILE).get("volumes", {}))
    binds: dict[str, str] = {}
    for name, service in services().items():
        for source, target in mounts(service):
            if source.startswith((".", "/")):
                assert (DEPLOY / source).resolve().exists(), (name, source)
                binds[target] = str((DEPLOY / source).resolve().relative_to(ROOT))
            else:
                assert source in declared, (name, source)
    assert binds == {
        "/etc/otelcol-contrib/config.yaml": "otel-collector.yaml",
        "/etc/prometheus/prometheus.yml": "deploy/prometheus.yml",
        "/etc/loki/loki.yaml": "deploy/loki.yaml",
        "/etc/grafana/provisioning": "deploy/grafana/provisioning",
        "/etc/grafana/dashboards": "deploy/grafana/dashboards",
    }


def test_command_line_paths_are_mounted() -> None:
    """Every path a service's command names (`--flag=/path`) is mounted into that container."""
    for name, service in services().items():
        targets = [PurePosixPath(target) for _source, target in mounts(service)]
        for arg in service.get("command", []):
            value = arg.partition("=")[2]
            if value.startswith("/"):
                path = PurePosixPath(value)
                assert any(path == t or t in path.parents for t in targets), (name, arg)


def test_every_published_port_binds_loopback() -> None:
    """Every host port is published on 127.0.0.1 only, host port = container port."""
    for name, service in services().items():
        for port in published(service):
            assert port.host_ip == "127.0.0.1", (name, port)
            assert port.host_port == port.container_port, (name, port)


def test_collector_ports_agree_with_compose_and_prometheus() -> None:
    """Receivers, exporter and health ports are published; Prometheus scrapes the exporter."""
    config = collector()
    protocols = config["receivers"]["otlp"]["protocols"]
    listen = {
        host_port(protocols["grpc"]["endpoint"])[1],
        host_port(protocols["http"]["endpoint"])[1],
        host_port(config["exporters"]["prometheus"]["endpoint"])[1],
        host_port(config["extensions"]["health_check"]["endpoint"])[1],
    }
    assert listen == {4317, 4318, 8889, 13133}
    assert {p.container_port for p in published(services()["otel-collector"])} == listen
    scrape = load_yaml(PROMETHEUS_CONFIG)["scrape_configs"]
    assert [target for job in scrape for c in job["static_configs"] for target in c["targets"]] == [
        "otel-collector:8889"
    ]


def test_exporter_destinations_are_compose_services() -> None:
    """The Jaeger and Loki exporters point at compose services on ports those services offer."""
    exporters = collector()["exporters"]
    for exporter, service in (("otlp_grpc/jaeger", "jaeger"), ("otlp_http/loki", "loki")):
        host, port = host_port(exporters[exporter]["endpoint"])
        assert host == service
        assert port in reachable_ports(services()[service]), (exporter, port)


def compose_port_rows() -> set[tuple[str, int, str, int]]:
    """Every published port of the compose file as a port-table row."""
    return {
        (p.host_ip, p.host_port, name, p.container_port)
        for name, service in services().items()
        for p in published(service)
    }


@pytest.mark.parametrize("readme", [DEPLOY_README, README_SECTION], ids=lambda p: p.name)
def test_readme_port_table_matches_compose(readme: Any) -> None:
    """The README's port table lists exactly the ports the compose file publishes."""
    assert port_table(readme) == compose_port_rows()


@pytest.mark.parametrize("readme", [DEPLOY_README, README_SECTION], ids=lambda p: p.name)
def test_readme_points_the_app_at_the_grpc_receiver(readme: Any) -> None:
    """The documented OTLP endpoint is the published gRPC receiver, with protocol grpc."""
    text = readme.read_text(encoding="utf-8")
    assert "docker compose -f deploy/docker-compose.yml up -d" in text
    endpoints = re.findall(r"OTEL_EXPORTER_OTLP_ENDPOINT=(\S+)", text)
    assert endpoints[0] == "http://127.0.0.1:4317"
    assert re.findall(r"OTEL_EXPORTER_OTLP_PROTOCOL=(\S+)", text)[0] == "grpc"
    assert ("127.0.0.1", 4317, "otel-collector", 4317) in compose_port_rows()


def test_deploy_readme_urls_are_published_ports() -> None:
    """Every http://127.0.0.1:PORT URL in deploy/README.md is a published port."""
    text = DEPLOY_README.read_text(encoding="utf-8")
    ports = {int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)", text)}
    assert ports == {4317, 4318, 3000, 16686, 9090}
    assert ports <= {row[1] for row in compose_port_rows()}


def test_grafana_datasources_point_at_compose_services() -> None:
    """Each data source URL names a compose service and a port that service offers."""
    datasources = load_yaml(DATASOURCES)["datasources"]
    found = {}
    for source in datasources:
        host, port = host_port(source["url"])
        assert port in reachable_ports(services()[host]), source["name"]
        found[source["uid"]] = (source["type"], host, port)
    assert found == {
        "prometheus": ("prometheus", "prometheus", 9090),
        "jaeger": ("jaeger", "jaeger", 16686),
        "loki": ("loki", "loki", 3100),
    }
    links = [
        datasources[1]["jsonData"]["tracesToLogsV2"]["datasourceUid"],
        datasources[2]["jsonData"]["derivedFields"][0]["datasourceUid"],
    ]
    assert links == ["loki", "jaeger"]


def test_grafana_dashboard_provider_reads_the_mounted_directory() -> None:
    """The dashboard provider's path is where the compose file mounts the dashboards."""
    grafana_mounts = {target: source for source, target in mounts(services()["grafana"])}
    providers = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    assert [p["options"]["path"] for p in providers] == ["/etc/grafana/dashboards"]
    assert grafana_mounts["/etc/grafana/dashboards"] == "./grafana/dashboards"
    assert grafana_mounts["/etc/grafana/provisioning"] == "./grafana/provisioning"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus) absent")
def test_promtool_accepts_the_prometheus_config() -> None:
    """`promtool check config deploy/prometheus.yml` succeeds."""
    promtool = shutil.which("promtool")
    assert promtool is not None
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
