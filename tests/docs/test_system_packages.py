"""What ./scripts/test installs on the system, when, and what the tests do without it; and the README says so.

scripts/test runs here in a copy of the repository whose .venv and pytest are stand-ins, with `id`
and `apt-get` replaced by recorders, and one made-up package added to its list, so that it has
something missing to install, or not.
"""
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.system_packages import OPT_OUT, package_missing

ROOT = Path(__file__).resolve().parents[2]
MADE_UP = "neuronhub-made-up-package"
MADE_UP_LINE = f'  "{MADE_UP} | neuronhub-no-such-program /nonexistent/neuronhub | a reason given by the test"\n'
LIST_START = "SYSTEM_PACKAGES=(\n"


def listed_packages() -> list[str]:
    script = (ROOT / "scripts" / "test").read_text()
    body = script[script.index(LIST_START) + len(LIST_START):script.index("\n)\n", script.index(LIST_START))]
    return [line.strip().strip('"').split("|")[0].strip() for line in body.splitlines() if line.strip()]


def executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_scripts_test(tmp_path: Path, uid: int, **env: str) -> tuple[subprocess.CompletedProcess, str, str]:
    """(the run, what apt-get was asked, what pytest was started with)."""
    repo, shims, apt_log, pytest_log = tmp_path / "repo", tmp_path / "bin", tmp_path / "apt.log", tmp_path / "pytest.log"
    script = (ROOT / "scripts" / "test").read_text()
    assert LIST_START in script, "scripts/test has no SYSTEM_PACKAGES list"
    executable(repo / "scripts" / "test", script.replace(LIST_START, LIST_START + MADE_UP_LINE, 1))
    (repo / "scripts" / "_venv.sh").write_text("ensure_venv() { :; }\n")
    executable(repo / ".venv" / "bin" / "python", f'#!/bin/sh\necho "{OPT_OUT}=${{{OPT_OUT}:-}} $*" > {pytest_log}\n')
    executable(shims / "apt-get", f'#!/bin/sh\necho "$*" >> {apt_log}\n')
    executable(shims / "id", f"#!/bin/sh\necho {uid}\n")
    environment = {k: v for k, v in os.environ.items() if k != OPT_OUT} | {"PATH": f"{shims}:{os.environ['PATH']}"} | env
    result = subprocess.run([str(repo / "scripts" / "test"), "tests/x", "-q"], capture_output=True, text=True,
                            env=environment, timeout=60)
    read = lambda path: path.read_text() if path.exists() else ""  # noqa: E731
    return result, read(apt_log), read(pytest_log)


def test_as_root_it_installs_what_is_missing_and_says_why(tmp_path):
    result, apt, ran = run_scripts_test(tmp_path, uid=0)
    assert result.returncode == 0, result.stderr
    assert "update -qq" in apt and re.search(rf"^install -y -qq .*\b{MADE_UP}\b", apt, re.M), apt
    assert f"{MADE_UP}: a reason given by the test" in result.stderr
    assert ran == f"{OPT_OUT}= -m pytest tests/x -q\n"


def test_opted_out_it_installs_nothing_and_the_tests_know(tmp_path):
    result, apt, ran = run_scripts_test(tmp_path, uid=0, **{OPT_OUT: "1"})
    assert result.returncode == 0, result.stderr
    assert apt == ""
    assert MADE_UP in result.stderr and "skipped" in result.stderr
    assert ran == f"{OPT_OUT}=1 -m pytest tests/x -q\n"


def test_not_root_it_stops_saying_what_is_missing_and_how_to_go_on(tmp_path):
    result, apt, ran = run_scripts_test(tmp_path, uid=1000)
    assert result.returncode == 1 and apt == "" and ran == ""
    assert f"{MADE_UP}: a reason given by the test" in result.stderr
    assert f"apt-get install {MADE_UP}" in result.stderr and f"{OPT_OUT}=1" in result.stderr


def test_installed_packages_are_left_alone(tmp_path):
    (tmp_path / "bin").mkdir()
    executable(tmp_path / "bin" / "neuronhub-no-such-program", "#!/bin/sh\n")
    result, apt, ran = run_scripts_test(tmp_path, uid=0)
    assert result.returncode == 0, result.stderr
    assert MADE_UP not in apt and MADE_UP not in result.stderr


@pytest.mark.parametrize("value, skipped", [("1", True), ("yes", True), ("0", False), ("", False), (None, False)])
def test_a_missing_package_skips_only_when_the_user_opted_out(monkeypatch, value, skipped):
    if value is None:
        monkeypatch.delenv(OPT_OUT, raising=False)
    else:
        monkeypatch.setenv(OPT_OUT, value)
    with pytest.raises(pytest.skip.Exception if skipped else pytest.fail.Exception) as raised:
        package_missing("nginx", "nginx-light")
    assert "nginx is not installed" in str(raised.value) and "apt-get install nginx-light" in str(raised.value)
    assert "./scripts/test as root" in str(raised.value)


def test_the_readme_names_every_package_scripts_test_may_install_and_the_way_out():
    readme = (ROOT / "README.md").read_text()
    packages = listed_packages()
    assert {"postgresql", "nginx-light"} <= set(packages)
    for package in packages:
        assert f"`{package}`" in readme, package
    assert f"{OPT_OUT}=1" in readme
