"""The bundled app's entry point: the same command line as the `companion` console script."""

import sys

from ui.launcher import main

if __name__ == "__main__":
    sys.exit(main())
