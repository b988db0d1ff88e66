"""The local QPI orchestrator (filled in by the foundation issue)."""
