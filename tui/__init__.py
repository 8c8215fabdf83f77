"""Terminal browser for artifactfs stores (Textual). Uses only artifactfs's public API."""
