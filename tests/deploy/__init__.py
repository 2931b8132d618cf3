"""Tests of the deploy artifacts: Knative manifests, Cloud Build configs, Dockerfiles."""
