"""``python -m qpi.cli``: the ``qpi`` command."""

from qpi.cli import main

main()
