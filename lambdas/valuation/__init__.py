"""XML valuation orchestration: the domain library behind every handler and the local stack."""
