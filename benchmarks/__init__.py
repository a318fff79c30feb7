"""Server benchmarks: run with ``python -m benchmarks.run`` (or ``make bench``)."""
