"""``python -m tui``: the terminal browser is not built yet."""

import sys

if __name__ == "__main__":
    sys.exit("the artifactfs terminal browser is not available in this release yet")
