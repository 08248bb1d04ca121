"""The bundled app's entry point: the same command line as the `companion` console script."""

import sys

from companion.cli import main

if __name__ == "__main__":
    sys.exit(main())
