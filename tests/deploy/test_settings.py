"""Every setting lives in service/config.py, and the documentation lists every one."""
from __future__ import annotations

import re
from dataclasses import fields

import pytest

from service.config import PREFIX, Config, settings_markdown, settings_table

from .support import ROOT

VARIABLE = re.compile(r"\bNEURONHUB_[A-Z0-9_]*[A-Z0-9]\b")


def test_every_setting_is_documented_in_the_readme_or_the_deploy_guide():
    documented = (ROOT / "docs" / "deploy.md").read_text() + (ROOT / "README.md").read_text()
    missing = [variable for variable, _, _ in settings_table() if f"`{variable}`" not in documented]
    assert not missing, f"add these to the settings table (python -m service.config prints it): {missing}"


def test_every_variable_the_code_and_deployment_files_read_is_a_setting():
    known = {variable for variable, _, _ in settings_table()}
    sources = [*ROOT.joinpath("service").rglob("*.py"), ROOT / "gunicorn.conf.py", ROOT / "Dockerfile",
               ROOT / "docker-compose.yml", *ROOT.joinpath("deploy").iterdir(), *ROOT.joinpath("scripts").iterdir()]
    unknown = {}
    for path in sources:
        if not path.is_file():
            continue
        for variable in VARIABLE.findall(path.read_text(errors="replace")):
            if variable not in known and not variable.startswith("NEURONHUB_TEST_"):
                unknown.setdefault(variable, path.relative_to(ROOT).as_posix())
    assert not unknown, f"read in service/config.py (with a doc) or rename: {unknown}"


def test_every_setting_has_a_doc_and_a_type_from_env_understands():
    for f in fields(Config):
        assert f.metadata.get("doc"), f.name
        assert type(f.default) in (str, int, float, bool), f.name
    table = settings_markdown()
    assert all(f"`{PREFIX}{f.name.upper()}`" in table for f in fields(Config))


def test_from_env_parses_and_rejects():
    config = Config.from_env({"NEURONHUB_WORKERS": "3", "NEURONHUB_REQUIRE_READ_KEY": "yes", "NEURONHUB_READ_KEYS": "k",
                              "NEURONHUB_RATE_LIMIT": "10/second", "UNRELATED": "x"})
    assert (config.workers, config.require_read_key, config.rate) == (3, True, (10, 1))
    assert Config.from_env({"NEURONHUB_JOB_LEASE_SECONDS": "2.5"}).job_lease_seconds == 2.5
    for variable, value in [("NEURONHUB_JOB_LEASE_SECONDS", "0"), ("NEURONHUB_JOB_LEASE_SECONDS", "nan"),
                            ("NEURONHUB_CHECKPOINT_SECONDS", "soon"), ("NEURONHUB_TRAINING_PRIORITY", "urgent"), ("NEURONHUB_WORKERS", "-1"), ("NEURONHUB_WORKERS", "two"), ("NEURONHUB_REQUIRE_READ_KEY", "maybe"),
                            ("NEURONHUB_REQUEST_TIMEOUT", "90"), ("NEURONHUB_CORS_ORIGINS", "https://a.example/")]:
        with pytest.raises(ValueError, match=variable):
            Config.from_env({variable: value})
