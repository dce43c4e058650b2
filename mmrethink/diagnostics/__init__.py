"""What checks and measures the training path without being on it: toy-width models,
trial runs of each arm family on generated data (the tests' and ``tools/check_gpu.py``'s),
and the benchmark (``tools/benchmark_train.py``). Nothing here is registered.
"""
