"""Shared library of the AI Code Review Platform's functions."""

__version__ = "1.0.0"
