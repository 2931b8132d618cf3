"""analysis-service: analysis jobs, the review worker, findings, feedback and suppressions."""

LOCAL_PORT = 8003
