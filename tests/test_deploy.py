"""Deployment files, checked offline: compose by its own client, Kubernetes manifests against the
API schemas, the Dockerfile by the rules it promises (no Docker engine or cluster needed)."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from .conftest import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "k8s"
DOCKERFILE = ROOT / "Dockerfile"
# A release managed clusters still run; autoscaling/v2 and policy/v1 are GA since 1.23 and 1.21.
K8S_VERSION = "1.30.0"
# Kinds that are not core API objects: no bundled schema, and `kubectl apply -k` must not need them.
NOT_CORE = {"Kustomization", "PodMonitor"}


# ---- Dockerfile --------------------------------------------------------------------------------
def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions as (KEYWORD, arguments), grouped by stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        if stages:  # an ARG before the first FROM belongs to no stage
            stages[-1].append((keyword.upper(), args.strip()))
    return stages


def instruction(stage, keyword: str) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def dockerfile_env(stage) -> dict[str, str]:
    env = {}
    for args in instruction(stage, "ENV"):
        env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def test_dockerfile_builds_in_one_stage_and_ships_a_lean_other():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    names = [re.search(r"\bAS\s+(\w+)", s[0][1], re.I) for s in stages]
    assert all(names), "every stage is named, so COPY --from says what it takes"
    build, runtime = stages[0], stages[-1]
    copied_from = [re.search(r"--from=(\w+)", a) for a in instruction(runtime, "COPY")]
    assert {m.group(1) for m in copied_from if m} == {names[0].group(1)}
    # The compiler is installed only where wheels are built, never in the shipped stage.
    assert any("build-essential" in a for a in instruction(build, "RUN"))
    assert not any("apt-get install" in a for a in instruction(runtime, "RUN"))


def test_dockerfile_runs_the_worker_by_default_as_a_numeric_non_root_user():
    runtime = dockerfile_stages()[-1]
    user = instruction(runtime, "USER")[-1]
    uid = user.split(":")[0]
    # Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
    assert uid.isdigit() and int(uid) != 0
    entrypoint = json.loads(instruction(runtime, "ENTRYPOINT")[-1])
    cmd = json.loads(instruction(runtime, "CMD")[-1])
    assert entrypoint + cmd == ["pantau", "worker"]
    # `docker run IMAGE replay ...` replaces CMD only: ENTRYPOINT must be the CLI itself.
    assert "pantau = " in (ROOT / "pyproject.toml").read_text()
    from streams.cli import main

    assert {"worker", "replay", "tail"} <= set(main.commands)
    # Listen where Prometheus (outside the container) can reach it.
    assert dockerfile_env(runtime)["PANTAU_METRICS_HOST"] == "0.0.0.0"


def healthcheck_command() -> list[str]:
    runtime = dockerfile_stages()[-1]
    (check,) = instruction(runtime, "HEALTHCHECK")
    command = json.loads(check.split(" CMD ", 1)[1])
    assert command[0] == "python"  # the slim image has no curl
    return [sys.executable, *command[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dockerfile_healthcheck_passes_on_a_metrics_endpoint_and_fails_without_one():
    from prometheus_client import start_http_server

    server, _ = start_http_server(0, addr="127.0.0.1")
    try:
        env = {**os.environ, "PANTAU_METRICS_PORT": str(server.server_port)}
        healthy = subprocess.run(healthcheck_command(), env=env, capture_output=True, timeout=30)
    finally:
        server.shutdown()
    assert healthy.returncode == 0, healthy.stderr.decode()
    env = {**os.environ, "PANTAU_METRICS_PORT": str(free_port())}
    unhealthy = subprocess.run(healthcheck_command(), env=env, capture_output=True, timeout=30)
    assert unhealthy.returncode != 0


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins, `!` re-includes, a directory its tree."""
    ignored = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            hit = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes)
        if hit:
            ignored = not negate
    return ignored


def test_dockerignore_sends_what_the_build_copies_and_nothing_heavy():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for stage in dockerfile_stages():
        for args in instruction(stage, "COPY"):
            if "--from=" not in args:
                sources += args.split()[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"
        assert not dockerignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    assert not dockerignored("streams/cli/__init__.py", patterns)
    for heavy in (
        ".venv/bin/python",
        ".git/HEAD",
        "tests/conftest.py",
        "pantau-data/x",
        "streams/cli/__pycache__/__init__.cpython-311.pyc",
    ):
        assert dockerignored(heavy, patterns), heavy


# ---- docker-compose ----------------------------------------------------------------------------
def compose_config(**env: str) -> dict:
    client = shutil.which("docker-compose")
    if client is None:
        pytest.skip(
            "docker-compose is not installed (Debian: apt-get install docker-compose); "
            ".ci/run installs it"
        )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PANTAU_", "GRAFANA_"))}
    result = subprocess.run(
        [client, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **env},
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def compose() -> dict:
    return compose_config()


def topic_specs(config: dict) -> dict[str, tuple[int, list[str]]]:
    """The `topics` service's list: name -> (partitions, ['key=value', ...])."""
    specs = {}
    for line in config["services"]["topics"]["environment"]["TOPICS"].splitlines():
        if line.strip():
            name, partitions, *configs = line.split()
            specs[name] = (int(partitions), ",".join(configs).split(",") if configs else [])
    return specs


def test_compose_file_is_valid_and_brings_up_the_whole_stack(compose):
    assert set(compose["services"]) >= {"kafka", "topics", "replay", "prometheus", "grafana"}
    assert len(workers(compose)) == 2


def workers(config: dict) -> dict[str, dict]:
    """The worker services (those running the image's default `worker` command)."""
    return {n: s for n, s in config["services"].items() if s.get("command") == ["worker"]}


def test_compose_kafka_runs_kraft_and_refuses_to_invent_topics(compose):
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert kafka["healthcheck"]["test"][0] == "CMD"


def test_compose_creates_every_topic_with_explicit_partitions(compose):
    specs = topic_specs(compose)
    assert specs["articles"][0] == 8 and specs["alerts"][0] == 8
    assert specs["articles.dlq"][0] == 1
    assert specs["pantau.rules"] == (1, ["cleanup.policy=compact"])
    assert specs["pantau.workers"] == (1, ["cleanup.policy=compact"])
    assert specs["alerts.feedback"] == (8, ["cleanup.policy=compact"])
    # Topics read together into tables must share the partition count (co-partitioning).
    assert specs["alerts.stories"][0] == specs["alerts.bursts"][0] == specs["articles"][0]
    # Everything the workers read or write exists before they start.
    for worker in workers(compose).values():
        env = worker["environment"]
        for key in ("PANTAU_ARTICLES_TOPIC", "PANTAU_ALERTS_TOPIC", "PANTAU_DLQ_TOPIC"):
            assert env[key] in specs, key
        assert worker["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    # More workers than partitions would leave some idle.
    assert len(workers(compose)) <= specs["articles"][0]


def test_compose_partition_count_follows_PANTAU_PARTITIONS():
    specs = topic_specs(compose_config(PANTAU_PARTITIONS="12"))
    assert specs["articles"][0] == specs["alerts"][0] == 12
    assert specs["pantau.rules"][0] == 1


def test_compose_topic_script_passes_partitions_and_configs_to_kafka_topics(compose, tmp_path):
    """Run the init container's shell script for real, with kafka-topics.sh replaced by a stub."""
    service = compose["services"]["topics"]
    stub, calls = tmp_path / "kafka-topics.sh", tmp_path / "calls"
    stub.write_text(f'#!/bin/sh\necho "$*" >> {calls}\necho "Topic: x PartitionCount: 1"\n')
    stub.chmod(0o755)
    # Compose turns `$$` into `$` when it runs the command.
    script = (
        service["command"][0]
        .replace("$$", "$")
        .replace("/opt/kafka/bin/kafka-topics.sh", str(stub))
    )
    result = subprocess.run(
        [*service["entrypoint"], script],
        env={**service["environment"], "PATH": os.defpath},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    created = {}
    for line in calls.read_text().splitlines():
        if "--create" in line:
            args = line.split()
            topic = args[args.index("--topic") + 1]
            configs = [args[i + 1] for i, a in enumerate(args) if a == "--config"]
            created[topic] = (int(args[args.index("--partitions") + 1]), configs)
            assert "--if-not-exists" in args and "kafka:9092" in args
    assert created == {n: (p, [c for c in cs if c]) for n, (p, cs) in topic_specs(compose).items()}


def test_compose_workers_and_replay_use_the_image_as_documented(compose):
    replay = compose["services"]["replay"]
    for worker in workers(compose).values():
        assert worker["image"] == replay["image"] and "build" in worker
        assert worker["environment"]["PANTAU_METRICS_HOST"] == "0.0.0.0"
        assert worker["environment"]["PANTAU_BROKER"] == "kafka://kafka:9092"
        assert worker["environment"]["PANTAU_APP_ID"] == "pantau"  # one consumer group
        assert worker["stop_grace_period"]
    # The replay reads the seeds where the Dockerfile puts them, and has no /metrics to check.
    runtime = dockerfile_stages()[-1]
    workdir = instruction(runtime, "WORKDIR")[-1]
    assert any(a.split() == ["seeds", "./seeds"] for a in instruction(runtime, "COPY"))
    assert replay["command"] == ["replay", f"{workdir}/seeds"]
    assert replay["healthcheck"]["test"] == ["NONE"]
    assert replay["restart"] == "no"


def bind_mounts(service: dict) -> dict[str, Path]:
    """container path -> host path, for bind mounts (named volumes have no '/' in the source)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("/"):
            mounts[target] = Path(source)
    return mounts


def test_compose_mounts_the_projects_prometheus_and_grafana_files(compose):
    prometheus = compose["services"]["prometheus"]
    mounts = bind_mounts(prometheus)
    assert mounts["/etc/prometheus/prometheus.yml"] == DEPLOY / "prometheus" / "prometheus.yml"
    assert mounts["/etc/prometheus/alerts.yml"] == DEPLOY / "prometheus" / "alerts.yml"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    grafana = bind_mounts(compose["services"]["grafana"])
    assert grafana["/etc/grafana/provisioning"] == DEPLOY / "grafana" / "provisioning"
    assert grafana["/var/lib/grafana/dashboards"] == DEPLOY / "grafana" / "dashboards"
    missing = [
        str(p.relative_to(ROOT)) for p in [*mounts.values(), *grafana.values()] if not p.exists()
    ]
    missing += [] if (DEPLOY / "grafana/dashboards/pantau.json").exists() else ["pantau.json"]
    assert not missing, f"compose mounts files that do not exist: {missing}"


def test_compose_prometheus_config_scrapes_every_worker(compose):
    """The contract with deploy/prometheus/prometheus.yml: each worker container is a target."""
    path = DEPLOY / "prometheus" / "prometheus.yml"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing (compose mounts it)"
    hosts = set()
    for job in yaml.safe_load(path.read_text())["scrape_configs"]:
        for static in job.get("static_configs", []):
            hosts |= {t for t in static["targets"] if t.endswith(":9108")}
        for dns in job.get("dns_sd_configs", []):
            if dns.get("port") == 9108:
                hosts |= {f"{name}:9108" for name in dns["names"]}
    for name, worker in workers(compose).items():
        aliases = worker.get("networks", {}).get("default", {}).get("aliases", [])
        assert {f"{n}:9108" for n in [name, *aliases]} & hosts, f"{name} is not scraped"


# ---- Kubernetes --------------------------------------------------------------------------------
def k8s_documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def k8s_object(kind: str, file: str | None = None) -> dict:
    (found,) = [d for f, d in k8s_documents() if d["kind"] == kind and file in (None, f)]
    return found


@pytest.mark.parametrize(
    "file,doc",
    [(f, d) for f, d in k8s_documents() if d["kind"] not in NOT_CORE],
    ids=lambda v: v if isinstance(v, str) else v["kind"],
)
def test_k8s_manifest_is_valid_against_the_api_schema_strictly(file, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_k8s_validation_is_strict_enough_to_catch_a_misspelt_field():
    deployment = copy.deepcopy(k8s_object("Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_k8s_kustomization_applies_without_optional_crds_or_adapters():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = kustomization["resources"]
    for name in listed:
        assert (K8S / name).exists(), name
    kinds = {d["kind"] for f, d in k8s_documents() if f in listed}
    assert not kinds & NOT_CORE, "kubectl apply -k must work on a cluster without the Operator"
    assert {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler"} <= kinds
    # Files left out are the optional ones, and the kustomization says how to use them.
    optional = {p.name for p in K8S.glob("*.yaml")} - set(listed) - {"kustomization.yaml"}
    assert optional == {"podmonitor.yaml", "hpa-lag.yaml"}
    text = (K8S / "kustomization.yaml").read_text()
    assert all(name in text for name in optional)
    (image,) = kustomization["images"]
    containers = k8s_object("Deployment")["spec"]["template"]["spec"]["containers"]
    assert image["name"] == containers[0]["image"]


def test_k8s_scrape_config_service_and_podmonitor_find_the_worker_pods():
    deployment, config = k8s_object("Deployment"), k8s_object("ConfigMap")["data"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["metrics"] == int(config["PANTAU_METRICS_PORT"]) == 9108
    assert config["PANTAU_METRICS_HOST"] == "0.0.0.0"
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]
    service = k8s_object("Service")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in ports
    monitor = k8s_object("PodMonitor")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]} <= set(ports)
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in ports


def test_k8s_pod_matches_the_image_user_and_data_directory():
    runtime = dockerfile_stages()[-1]
    uid = int(instruction(runtime, "USER")[-1].split(":")[0])
    pod = k8s_object("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == uid
    (container,) = pod["containers"]
    assert container["args"] == ["worker"]
    # A read-only root needs Faust's data directory on a volume.
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert dockerfile_env(runtime)["PANTAU_DATA_DIR"] in mounts


def compose_partitions_without_client() -> dict[str, int]:
    """Partition counts from the compose file itself, `${VAR:-default}` read as its default."""
    raw = yaml.safe_load(COMPOSE.read_text())
    text = raw["services"]["topics"]["environment"]["TOPICS"]
    text = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)
    return {line.split()[0]: int(line.split()[1]) for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("file", ["hpa.yaml", "hpa-lag.yaml"])
def test_k8s_autoscaler_targets_the_workers_and_stops_at_the_partition_count(file):
    hpa, deployment = k8s_object("HorizontalPodAutoscaler", file), k8s_object("Deployment")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["maxReplicas"] <= compose_partitions_without_client()["articles"]
    # The HPA owns the replica count; a CPU utilisation target needs a CPU request.
    assert "replicas" not in deployment["spec"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "cpu" in container["resources"]["requests"]
    # Both files define the same object, so using one replaces the other.
    assert (
        hpa["metadata"]["name"]
        == k8s_object("HorizontalPodAutoscaler", "hpa.yaml")["metadata"]["name"]
    )


def test_k8s_lag_autoscaler_watches_this_consumer_group_and_topic():
    config = k8s_object("ConfigMap")["data"]
    metrics = k8s_object("HorizontalPodAutoscaler", "hpa-lag.yaml")["spec"]["metrics"]
    (external,) = [m["external"] for m in metrics if m["type"] == "External"]
    selector = external["metric"]["selector"]["matchLabels"]
    assert selector == {
        "consumergroup": config["PANTAU_APP_ID"],
        "topic": config["PANTAU_ARTICLES_TOPIC"],
    }
    assert external["target"]["type"] == "AverageValue"
    assert any(m["type"] == "Resource" for m in metrics), "keeps CPU as a fallback signal"
