"""Starting, checking and watching training processes: the library behind ``tools/``.

Launch set-up, input checks before a Runner is built, the GPU fast path, toy-width
models, jobs run side by side, the benchmark and trial runs of each arm family. Nothing
here is registered (configs never name it), and nothing below this layer imports it.
"""
