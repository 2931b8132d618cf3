"""localdev: the development tools of ``make run`` and the tests (the local runner, the gateway,
the local Broker). It lives beside shared/, imports from it, and no image copies it."""
