"""Former name of :mod:`artifactfs.backend` (and of :mod:`artifactfs.uris`), kept importable."""

from .backend import Backend, KeyNotFoundError, read_source
from .uris import describe_uri, open_uri

__all__ = ["Backend", "KeyNotFoundError", "describe_uri", "open_uri", "read_source"]
