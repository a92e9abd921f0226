"""Static checks on the app: cdk-nag's AWS Solutions pack and cfn-lint."""

from __future__ import annotations

import json
import warnings
from collections import Counter

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint_all

from infra_support import build


def test_aws_solutions_checks_find_nothing_unacknowledged(synthesized):
    """Every finding is fixed or acknowledged in code with its reason."""
    report = AwsSolutionsChecks(verbose=True).validate_scope(synthesized.stack)
    findings = [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]
    assert findings == []


def test_the_app_refuses_to_synthesize_a_new_finding(tmp_path):
    """The pack runs in the app itself: `cdk synth` and `make synth` stop on a finding."""
    _, stack = build(tmp_path)
    s3.Bucket(stack, "UncheckedBucket")  # no TLS enforcement, no access logs
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(stack)


def test_cfn_lint_finds_no_errors(synthesized):
    matches = lint_all(json.dumps(synthesized.template.to_json()))
    errors = [f"{m.rule.id} {m.message} ({m.path_string})" for m in matches
              if m.rule.severity == "error"]
    assert errors == []
    others = Counter(m.rule.id for m in matches if m.rule.severity == "warning")
    if others:  # CDK's own patterns (W3005: DependsOn next to a GetAtt); reported, not failed
        warnings.warn(f"cfn-lint warnings: {dict(others)}", stacklevel=1)
