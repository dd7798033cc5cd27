"""Benchmark: turns/s, latency, memory, cold start and training time, ours against stock Rasa.

Run it with `make benchmark` (scripts/benchmark.sh); it writes reports/benchmark/.
"""
