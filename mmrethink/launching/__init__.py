"""The training path: what ``tools/train.py`` and the launchers run.

Launch set-up, input checks before a Runner is built, the GPU fast path, the schedule
rescaled to the real batch, jobs run side by side. Nothing here is registered (configs
never name it), and nothing below this layer imports it.
"""
