"""project-service: projects, members, content-addressed file blobs and snapshots."""

LOCAL_PORT = 8002
