"""Tests of the platform; a package so tests/shared never shadows the shared package."""
