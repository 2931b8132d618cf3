"""auth-service: users, passwords, tokens, service accounts and signing keys."""

LOCAL_PORT = 8001
