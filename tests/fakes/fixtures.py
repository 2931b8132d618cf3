"""Pytest fixtures exposing the fakes (registered through tests/conftest.py's pytest_plugins)."""
