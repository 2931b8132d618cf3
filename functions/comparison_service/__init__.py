"""comparison-service: A/B tests of reviewer-config versions, and comparisons of analyses."""

LOCAL_PORT = 8006
