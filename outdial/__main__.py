"""`python -m outdial` is the `outdial` command."""

from outdial.cli import main

main()
