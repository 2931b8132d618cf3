"""The platform's services, one package per seed service."""
