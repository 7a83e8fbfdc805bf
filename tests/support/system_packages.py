"""What a test does when a system package it needs (listed in scripts/test) is not installed.

With NEURONHUB_TEST_NO_SYSTEM_INSTALL set (to anything but 0) the user chose not to have scripts/test
install system packages: the test is skipped, saying how to run it. Otherwise it fails, so that CI,
which sets nothing and gets every package installed, can never pass by skipping.
"""
from __future__ import annotations

import os
from typing import NoReturn

import pytest

OPT_OUT = "NEURONHUB_TEST_NO_SYSTEM_INSTALL"


def opted_out() -> bool:
    return os.environ.get(OPT_OUT, "") not in ("", "0")


def package_missing(what: str, package: str) -> NoReturn:
    """`what` (e.g. "nginx") is not installed; `package` is the apt package in scripts/test's list."""
    how = (f"install it (Debian/Ubuntu: apt-get install {package}), or run ./scripts/test as root "
           f"without {OPT_OUT} and it installs it")
    if opted_out():
        pytest.skip(f"{what} is not installed and {OPT_OUT} is set; to run this test, {how}")
    pytest.fail(f"{what} is not installed: {how}; or set {OPT_OUT}=1 to skip the tests that need it", pytrace=False)
