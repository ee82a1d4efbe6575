"""`python -m harness`: the `symmio-harness` command."""

from .cli import main

if __name__ == "__main__":
    main()
