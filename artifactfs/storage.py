"""Former home of the backend (:mod:`artifactfs.backend`) and of external references
(:mod:`artifactfs.uris`); the names it had stay importable from here."""

from .backend import Backend, KeyNotFoundError
from .sources import read_source
from .uris import describe_uri, open_uri

__all__ = ["Backend", "KeyNotFoundError", "describe_uri", "open_uri", "read_source"]
