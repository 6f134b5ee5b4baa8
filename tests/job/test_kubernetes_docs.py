"""The manifests in docs/kubernetes.md are valid Kubernetes and say what the docs say.

Each is checked against Kubernetes' own OpenAPI-derived JSON schemas in strict mode (no
unknown fields) with the kubernetes-validate package, offline, then the fields the docs
rely on are read back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DOC = Path(__file__).resolve().parents[2] / "docs" / "kubernetes.md"
SCHEMA_VERSION = "1.33.0"  # backoffLimitPerIndex is stable from 1.33


def manifests() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/kubernetes.md has no yaml block"
    return [doc for block in blocks for doc in yaml.safe_load_all(block) if doc]


def by_kind(kind: str) -> dict[str, Any]:
    (found,) = [m for m in manifests() if m["kind"] == kind]
    return found


@pytest.mark.parametrize("manifest", manifests(), ids=lambda m: m["kind"])
def test_manifest_is_valid_against_the_kubernetes_schema(manifest: dict[str, Any]) -> None:
    kubernetes_validate.validate(manifest, SCHEMA_VERSION, strict=True)


def test_a_manifest_with_an_unknown_field_is_refused() -> None:
    # the check is real: a typo in a field name fails it
    cronjob = by_kind("CronJob")
    cronjob["spec"]["concurencyPolicy"] = cronjob["spec"].pop("concurrencyPolicy")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(cronjob, SCHEMA_VERSION, strict=True)


def test_the_cronjob_runs_an_indexed_job_of_n_shards_every_ten_minutes() -> None:
    cronjob = by_kind("CronJob")
    spec = cronjob["spec"]
    assert spec["schedule"] == "*/10 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    job = spec["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["activeDeadlineSeconds"] < 600  # a run ends before the next is due
    (container,) = job["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert job["completions"] == job["parallelism"] == int(env["CALSYNC_SHARDS"])
    args = container["args"]
    assert args[args.index("--shard") + 1] == "auto" and "--all" in args
    assert container["envFrom"] == [{"secretRef": {"name": by_kind("Secret")["metadata"]["name"]}}]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    (volume,) = job["template"]["spec"]["volumes"]
    claim = by_kind("PersistentVolumeClaim")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    mount = container["volumeMounts"][0]["mountPath"]
    assert args[args.index("--workspace") + 1] == mount


def test_secrets_are_environment_variables_calsync_reads_by_reference() -> None:
    secret = by_kind("Secret")
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", key) for key in secret["stringData"])
