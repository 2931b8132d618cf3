"""provider-service: AI providers, their models and prices, quota rules and the usage ledger."""

LOCAL_PORT = 8007
