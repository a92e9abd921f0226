"""The CDK app of the valuation service (DESIGN section 9): see docs/deploy.md."""
