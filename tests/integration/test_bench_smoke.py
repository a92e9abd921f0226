"""The benchmark suite keeps working: every figure, at a tiny scale, written to a results file."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_the_benchmark_suite_runs_at_a_tiny_scale(redis_url, monkeypatch, tmp_path):
    from bench import suite

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr(suite, "RESULTS", tmp_path / "RESULTS.md")
    assert suite.main(["--repeat", "1", "--scale", "0.02"]) == 0

    results = (tmp_path / "RESULTS.md").read_text()
    for figure in ("async submit 1 MB, p99", "sync request 2 x 10 tasks", "throughput",
                   "orchestration overhead", "wake-up", "parse + hydrate", "load:"):
        assert f"| {figure}" in results, figure
    assert "History budget" in results
