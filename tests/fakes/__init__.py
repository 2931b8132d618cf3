"""Fakes of external systems that speak their real protocols (Secret Manager, AI providers)."""
