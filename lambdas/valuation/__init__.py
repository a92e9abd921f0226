"""XML valuation orchestration: the domain library behind every Lambda handler and the local stack."""
