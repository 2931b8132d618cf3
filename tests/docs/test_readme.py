"""The README stays true: every setting, every function and its local port are documented."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from localdev import discovery
from shared import config

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _settings_classes() -> list[type[config.BaseConfig]]:
    found: list[type[config.BaseConfig]] = [config.BaseConfig]
    for path in sorted(ROOT.glob("functions/*/settings.py")):
        module = importlib.import_module(f"functions.{path.parent.name}.settings")
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, config.BaseConfig)
            and value is not config.BaseConfig
        ]
    return found


@pytest.mark.parametrize("settings", _settings_classes(), ids=lambda s: s.__name__)
def test_every_setting_is_in_the_configuration_table(settings: type[config.BaseConfig]) -> None:
    missing = [name.upper() for name in settings.model_fields if f"`{name.upper()}`" not in README]
    assert not missing, f"README.md does not document {missing} ({settings.__name__})"


def test_every_function_and_its_local_port_is_in_the_url_map() -> None:
    for service in discovery.discover(ROOT):
        assert f"| {service.name}" in README or f"{service.name} (" in README, service.name
        for spec in service.functions:
            assert f"http://127.0.0.1:{spec.port}" in README, f"{spec.name} :{spec.port} missing"
            assert f"`{spec.name}`" in README, f"function {spec.name} missing"
