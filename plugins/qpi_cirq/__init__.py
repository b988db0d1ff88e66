"""QPI plugin for cirq (filled in by its issue)."""
