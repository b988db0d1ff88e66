"""QPI plugin for pennylane (filled in by its issue)."""
