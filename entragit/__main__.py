"""`python -m entragit` is the entragit command."""

from entragit.cli import main

main()
