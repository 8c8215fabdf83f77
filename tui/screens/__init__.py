"""The screens of the browser, one module each."""
