"""The wiring nobody imports by name: setup, the handle, providers, the pipeline and helpers."""
