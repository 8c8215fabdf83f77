"""Widgets of the browser that Textual does not provide: the lazily paged table grid."""
