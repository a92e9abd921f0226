"""Lambda entry points: each parses its event, calls the domain code and shapes the result."""
