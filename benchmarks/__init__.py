"""City-scale benchmarks (`make bench`); see benchmarks/run.py."""
