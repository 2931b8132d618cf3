"""localdev.images: engine choice, image names, and a function's environment from its manifest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localdev import discovery, images


def test_manifest_env_is_the_knative_containers_values_and_configmaps() -> None:
    env = images.manifest_env("auth-tokens")
    assert env["FUNCTION_TARGET"] == "auth_tokens"
    assert env["SERVICE_NAME"] == "auth-service"
    assert env["ENVIRONMENT"] == "production"  # platform-config
    assert env["MIGRATE_ON_START"] == "false"
    assert env["REGISTRATION_OPEN"] == "false"  # auth-service-config
    assert "DATABASE_URL" not in env  # a Secret: the caller supplies it


def test_literal_env_wins_over_a_configmap() -> None:
    worker = images.manifest_env("analysis-worker")
    assert worker["SHUTDOWN_TIMEOUT_SECONDS"] == "25"  # platform-config says 15
    assert images.manifest_env("analyses")["SHUTDOWN_TIMEOUT_SECONDS"] == "15"


def test_secret_keys_are_the_manifests_secret_references() -> None:
    assert images.secret_keys("auth-tokens") == [
        "DATABASE_URL",
        "REDIS_URL",
        "AUTH_SIGNING_KEYS",
        "ADMIN_PASSWORD",
        "PLATFORM_CLIENT_ID",
        "PLATFORM_CLIENT_SECRET",
    ]
    assert "QUOTA_SIGNING_KEY" in images.secret_keys("providers")


def test_images_are_named_acr_service_and_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    auth = next(s for s in discovery.discover() if s.package == "auth_service")
    monkeypatch.setenv("IMAGE_TAG", "abc1234")
    assert images.image(auth) == "acr/auth-service:abc1234"
    monkeypatch.delenv("IMAGE_TAG")
    assert re.fullmatch(r"acr/auth-service:[0-9a-f]{7,}", images.image(auth))


def test_without_docker_or_image_build_make_images_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(images, "IMAGE_BUILD", tmp_path / "image-build")
    with pytest.raises(images.NoEngine, match="no docker command.*image-build is not there"):
        images.engine()
    assert images.main(["build"]) == 1
    assert "cannot build images" in capsys.readouterr().err


def test_a_docker_that_answers_nothing_falls_back_to_image_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(0o755)
    tool = tmp_path / "image-build"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(images, "IMAGE_BUILD", tool)
    chosen = images.engine()
    assert isinstance(chosen, images.ImageBuild) and chosen.tool == tool
    docker.write_text("#!/bin/sh\nexit 0\n")
    assert isinstance(images.engine(), images.Docker)


def test_globs_stay_within_one_path_segment() -> None:
    pattern = re.compile(images._glob("/usr/bin/pip*"))
    assert pattern.fullmatch("/usr/bin/pip3.11")
    assert not pattern.fullmatch("/usr/bin/pip/x")
