"""QPI plugin for qiskit (filled in by its issue)."""
