"""Hydration (DESIGN section 5): directives in the request pull in data, over several passes."""

from .engine import HydrationContext, context_from_settings, hydrate
from .errors import HydrationError

__all__ = ["HydrationContext", "HydrationError", "context_from_settings", "hydrate"]
