"""Terminal browser for artifactfs stores (Textual). Uses only artifactfs's public API.

Layers, each importing only those below it: ``app`` (screens, palette, navigation) over
``screens`` and ``widgets`` (what is shown), which post ``messages`` to move between screens
and read ``views`` and ``pager`` values from ``data``, the one module that touches a store.
"""
