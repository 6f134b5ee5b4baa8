"""`python -m tui` runs the same entry point as the `calsync` script."""

from tui.cli import main

main()
