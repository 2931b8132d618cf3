"""Benchmarks: `make bench` runs tests.bench.run; `make load` runs the locustfile."""
