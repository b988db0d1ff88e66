"""Hook implementations registered through the qpi entry point."""
