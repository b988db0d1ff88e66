"""The HTTP routes of the local orchestrator, one module per area."""
