"""version-control-service: experiments, immutable reviewer-config versions and aliases."""

LOCAL_PORT = 8005
