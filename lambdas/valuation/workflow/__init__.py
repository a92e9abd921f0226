"""The Step Functions workflow: its definition, its functions and the steps they run."""
