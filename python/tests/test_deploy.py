"""Deployment manifests: what `blockwork kubernetes` prints is valid
Kubernetes (checked against its OpenAPI schemas with kubernetes-validate),
and holds what was asked for."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import blockwork_binary

#: The Kubernetes version whose schemas the manifests must satisfy.
KUBERNETES = "1.30.0"


def render(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run([str(blockwork_binary()), "kubernetes", *args], capture_output=True, text=True, check=True)
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


def by_kind(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    kinds: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    return kinds


def validate(docs: list[dict[str, Any]]) -> None:
    for d in docs:
        if d["apiVersion"].startswith("keda.sh/"):
            continue  # a custom resource: not in Kubernetes' schemas (checked below)
        kubernetes_validate.validate(d, KUBERNETES, strict=True)


def test_default_manifests_are_valid_kubernetes() -> None:
    docs = render()
    validate(docs)
    kinds = by_kind(docs)
    assert sorted(kinds) == ["Deployment", "Service"]
    worker = next(d for d in kinds["Deployment"] if d["metadata"]["name"] == "blockwork-worker")
    pod = worker["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert worker["spec"]["replicas"] == 2
    assert container["resources"]["limits"] == {"cpu": "1", "memory": str(4 * 2**30)}
    assert container["args"][:2] == ["worker", "tcp://blockwork-scheduler:8786"]
    assert container["args"][container["args"].index("--memory-limit") + 1] == str(4 * 2**30)
    assert pod["terminationGracePeriodSeconds"] >= 60, "time to hand results over on SIGTERM"
    service = kinds["Service"][0]
    assert {p["port"] for p in service["spec"]["ports"]} == {8786, 8787}


def test_tls_python_workers_and_the_autoscaler(tmp_path: Path) -> None:
    files = []
    for name in ("ca", "cert", "key"):
        f = tmp_path / f"{name}.pem"
        f.write_text(f"-----BEGIN {name.upper()}-----\nAAAA\n-----END {name.upper()}-----\n")
        files += [f"--tls-{'ca-file' if name == 'ca' else name}", str(f)]
    docs = render(
        "--name",
        "climate",
        "--namespace",
        "science",
        "--workers",
        "4",
        "--worker-cores",
        "8",
        "--worker-memory",
        "32GiB",
        "--python",
        "--adapt",
        "2:50",
        *files,
    )
    validate(docs)
    kinds = by_kind(docs)
    assert sorted(kinds) == ["Deployment", "ScaledObject", "Secret", "Service"]
    assert all(d["metadata"]["namespace"] == "science" for d in docs)
    secret = kinds["Secret"][0]
    assert sorted(secret["data"]) == ["ca.pem", "cert.pem", "key.pem"]
    worker = next(d for d in kinds["Deployment"] if d["metadata"]["name"] == "climate-worker")
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "blockwork"]
    assert "--tls-key" in container["args"] and container["volumeMounts"][0]["mountPath"] == "/etc/blockwork/tls"
    scaled = kinds["ScaledObject"][0]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "climate-worker"
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (2, 50)
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "metrics-api" and trigger["metadata"]["valueLocation"] == "workers"
    assert trigger["metadata"]["url"] == "http://climate-scheduler:8787/api/v1/adaptive_target"


def test_bad_settings_are_named() -> None:
    bad = subprocess.run(
        [str(blockwork_binary()), "kubernetes", "--name", "Not_A_Label"], capture_output=True, text=True
    )
    assert bad.returncode != 0 and "lowercase" in bad.stderr
    bad = subprocess.run([str(blockwork_binary()), "kubernetes", "--adapt", "9:2"], capture_output=True, text=True)
    assert bad.returncode != 0 and "MIN:MAX" in bad.stderr


@pytest.mark.parametrize("path", ["deploy/Dockerfile"])
def test_the_image_definition_runs_the_blockwork_command(path: str) -> None:
    text = (Path(__file__).resolve().parents[2] / path).read_text()
    assert 'ENTRYPOINT ["blockwork"]' in text
    assert "cargo build --release --locked -p blockwork-cli" in text
