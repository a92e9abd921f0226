"""The one code asset of every function: `lambdas/valuation` plus the runtime dependencies.

Built on this machine with pip (no Docker): pip fetches the Linux arm64 wheels for the Lambda
runtime's Python, whatever this machine runs. The dependencies are pyproject's
`[project] dependencies`, the same list the local stack installs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO = Path(__file__).resolve().parents[2]
LAMBDAS_DIR = REPO / "lambdas"
PACKAGE_DIR = LAMBDAS_DIR / "valuation"
PYPROJECT = REPO / "pyproject.toml"

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's Python runtimes run on Amazon Linux 2023 (glibc 2.34): manylinux2014 wheels and newer.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")


def runtime_dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    with pyproject.open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def pip_command(target: str, requirements: Sequence[str], python_version: str) -> list[str]:
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable, "-m", "pip", "install", "--quiet",
        *platforms, "--implementation", "cp", "--python-version", python_version,
        "--only-binary=:all:",
        # No .pyc: the output, and so the asset hash, depends only on the packages.
        "--no-compile",
        "--target", target, *requirements,
    ]


@jsii.implements(ILocalBundling)
class PipBundling:
    """Installs the dependencies for the Lambda platform, then copies the handler package."""

    def __init__(self, requirements: Sequence[str], python_version: str):
        self.requirements = list(requirements)
        self.python_version = python_version

    def try_bundle(self, output_dir: str, _options: BundlingOptions) -> bool:
        subprocess.run(pip_command(output_dir, self.requirements, self.python_version), check=True)
        # Console scripts carry this machine's interpreter path and are never run in Lambda.
        shutil.rmtree(Path(output_dir) / "bin", ignore_errors=True)
        shutil.copytree(
            PACKAGE_DIR, Path(output_dir) / PACKAGE_DIR.name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        return True  # a failed pip raised above: never fall back to Docker


def function_code() -> lambda_.Code:
    python_version = RUNTIME.name.removeprefix("python")
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR),
        # Hash what is deployed: new dependency releases or handler changes make a new asset.
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,  # required by the API; local bundling always answers
            local=PipBundling(runtime_dependencies(), python_version),
        ),
    )
