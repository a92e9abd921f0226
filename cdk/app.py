"""CDK entry point: `cdk synth` / `cdk deploy` (cdk.json), or `make synth` without the CLI."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The definition loader and function registry come from the code this app deploys.
sys.path.insert(0, str(REPO / "lambdas"))

from aws_cdk import App  # noqa: E402

from valuation_infra.stack import add_service  # noqa: E402


def main() -> None:
    # The CLI passes cdk.json's context itself; run directly, the app reads it here. Either way
    # the CLI's values (cdk.json, cdk.context.json, -c) win over these defaults.
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    # The CLI chooses the output folder (CDK_OUTDIR); run directly, it is cdk.out as for the CLI.
    app = App(context=context, outdir=None if "CDK_OUTDIR" in os.environ else str(REPO / "cdk.out"))
    add_service(app)
    app.synth()


if __name__ == "__main__":
    main()
