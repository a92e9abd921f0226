"""The code asset is built with pip for Lambda's platform, without Docker (pip itself is stubbed
here: no network)."""

from __future__ import annotations

import subprocess
import tomllib

from infra_support import REPO
from valuation_infra import bundling


def test_pip_installs_the_runtime_dependencies_for_arm64_lambda_then_the_package_is_copied(
    tmp_path, monkeypatch
):
    commands = []

    def pip(command, **_):
        commands.append(command)
        (tmp_path / "bin").mkdir()  # console scripts pip would write
        (tmp_path / "redis").mkdir()
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bundling.subprocess, "run", pip)
    bundler = bundling.PipBundling(bundling.runtime_dependencies(), "3.14")
    assert bundler.try_bundle(str(tmp_path), None) is True

    (command,) = commands
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert command[-len(dependencies):] == dependencies
    assert command[command.index("--target") + 1] == str(tmp_path)
    assert "--only-binary=:all:" in command
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert "manylinux2014_aarch64" in platforms
    assert all(platform.endswith("_aarch64") for platform in platforms)
    assert command[command.index("--python-version") + 1] == "3.14"
    assert (tmp_path / "valuation" / "handlers" / "run_task.py").is_file()
    assert not list((tmp_path / "valuation").rglob("__pycache__"))
    assert not (tmp_path / "bin").exists()
    assert (tmp_path / "redis").is_dir()


def test_the_runtime_is_arm64_python_3_12_or_newer():
    assert bundling.ARCHITECTURE.name == "arm64"
    version = tuple(int(part) for part in bundling.RUNTIME.name.removeprefix("python").split("."))
    assert version >= (3, 12)
