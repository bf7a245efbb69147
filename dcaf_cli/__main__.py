"""`python -m dcaf_cli` is `dcaf`."""

from dcaf_cli.cli import main

main()
