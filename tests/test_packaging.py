"""The install: one lock of exact versions, ranges that agree with it, and a package that works outside the checkout.

requirements*.txt hold ranges (for installing caixun beside other things), pyproject.toml declares the same
ranges (matplotlib and Redis as extras), requirements.lock the exact versions the README's commands and CI
install. These tests fail when the three disagree, or when the environment running the tests is not the
locked one (a green run on a hand-made environment would hide a missing install step).
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import PROJECT_DIR

LOCK = PROJECT_DIR / "requirements.lock"
DEV_ONLY = {"pytest", "time-machine", "selenium", "setuptools", "uv"}  # tests and the lock's tooling, no extra


def requirement_lines(path: Path) -> list[Requirement]:
    """The requirements of a requirements file and of the files it includes with -r."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirement_lines(path.parent / line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def locked() -> dict[str, list[tuple[str, Requirement]]]:
    """name → [(pinned version, the lock's line as a Requirement, markers included)]."""
    pins: dict[str, list[tuple[str, Requirement]]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        [specifier] = requirement.specifier
        assert specifier.operator == "==", f"not an exact pin in the lock: {line}"
        pins.setdefault(canonicalize_name(requirement.name), []).append((specifier.version, requirement))
    return pins


def project() -> dict:
    return tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_every_range_admits_the_locked_version():
    pins = locked()
    ranges = requirement_lines(PROJECT_DIR / "requirements-dev.txt")
    assert {canonicalize_name(r.name) for r in ranges} >= {"scrapy", "trafilatura", "sqlalchemy", "pandas", "pytest"}
    for requirement in ranges:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: regenerate it (README, Dependencies)"
        for version, _ in pins[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements.lock pins {name}=={version}, outside {requirement}: regenerate the lock"
            )


def test_pyproject_declares_the_same_ranges_as_the_requirement_files():
    declared = {canonicalize_name(Requirement(r).name): Requirement(r) for r in project()["dependencies"]}
    extras = project()["optional-dependencies"]
    assert set(extras) == {"readers", "report", "distributed"}
    for extra, lines in extras.items():
        for line in lines:
            declared[canonicalize_name(Requirement(line).name)] = Requirement(line)
    files = {
        canonicalize_name(r.name): r
        for r in requirement_lines(PROJECT_DIR / "requirements-dev.txt")
        if canonicalize_name(r.name) not in DEV_ONLY
    }
    assert {name: str(r) for name, r in declared.items()} == {name: str(r) for name, r in files.items()}
    assert {canonicalize_name(Requirement(r).name) for r in extras["report"]} == {"matplotlib"}
    assert {canonicalize_name(Requirement(r).name) for r in extras["distributed"]} == {"scrapy-redis", "redis"}


def test_the_python_versions_stated_are_those_the_project_declares():
    requires = project()["requires-python"]
    assert requires == ">=3.11,<3.14"
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11, 3.12 and 3.13" in readme.split("\n---", 1)[0], "the README's first screen names them"
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in {"3.11", "3.12", "3.13"}


def test_the_tests_run_in_the_locked_environment():
    environment = default_environment()
    wrong = []
    for name, pins in locked().items():
        for version, requirement in pins:
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            try:
                installed = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                wrong.append(f"{name}: not installed, locked {version}")
                continue
            if installed != version:
                wrong.append(f"{name}: {installed} installed, locked {version}")
    assert wrong == [], "install with  pip install -r requirements-dev.txt -c requirements.lock"


def test_both_readme_commands_and_ci_install_from_the_lock():
    first_screen = (PROJECT_DIR / "README.md").read_text(encoding="utf-8").split("\n---", 1)[0]
    commands = [line for line in first_screen.splitlines() if line.startswith("python3 -m venv .venv")]
    assert len(commands) == 2, commands
    assert all("-c requirements.lock" in command for command in commands), commands
    assert "-c requirements.lock" in (PROJECT_DIR / ".ci" / "run").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """caixun built from a copy of the checkout and installed (without dependencies) into a folder of its own."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_DIR / name, source / name)
    for package in ("crawler", "extractors", "storage"):
        shutil.copytree(PROJECT_DIR / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return target


def _run_installed(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(installed), "HOME": str(cwd)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_installed_package_works_outside_the_checkout(installed, tmp_path):
    probe = (
        "import storage, extractors, crawler, sys\n"
        "print(storage.__file__, extractors.__file__, crawler.__file__, sep='\\n')\n"
    )
    result = _run_installed(installed, tmp_path, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert all(line.startswith(str(installed)) for line in result.stdout.split()), result.stdout
    # the migrations ship with the package: a new store is created and upgraded from another folder
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    upgraded = _run_installed(installed, tmp_path, "-m", "storage", "upgrade", "--database-url", url)
    assert upgraded.returncode == 0, upgraded.stderr
    counted = _run_installed(installed, tmp_path, "-m", "storage", "count", "--database-url", url)
    assert counted.returncode == 0 and counted.stdout.strip() == "0", (counted.stdout, counted.stderr)
    # the crawler finds its own Scrapy settings without a scrapy.cfg in the current folder
    helped = _run_installed(installed, tmp_path, "-m", "crawler", "run", "nosuchspider")
    assert helped.returncode == 2 and "news" in helped.stderr, helped.stderr


def test_the_default_store_of_an_installed_package_is_under_the_current_folder(installed, tmp_path):
    probe = "from storage.db import DEFAULT_DATABASE_URL; print(DEFAULT_DATABASE_URL)"
    result = _run_installed(installed, tmp_path, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sqlite:///{tmp_path / 'data' / 'caixun.db'}"
    in_checkout = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(PROJECT_DIR)},
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
    assert in_checkout.stdout.strip() == f"sqlite:///{PROJECT_DIR / 'data' / 'caixun.db'}"
