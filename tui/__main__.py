"""``python -m tui [STORE_URL]``: browse a store (default: the default store)."""

import sys

from .app import main

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
