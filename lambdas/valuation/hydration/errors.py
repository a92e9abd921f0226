"""How hydration fails: one error type, whose message names the directive and where it stands."""

from __future__ import annotations


class HydrationError(ValueError):
    """A directive could not be applied; the request fails with this message as its detail."""
