"""pytest-chaos: resilience chaos testing with a Toxiproxy-compatible fault proxy."""

__version__ = "0.1.0"
