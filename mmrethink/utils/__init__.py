"""Support code for the tools (launching, input checks, the GPU fast path, toy-width
models, config reading). Nothing here is registered: configs never name it."""
