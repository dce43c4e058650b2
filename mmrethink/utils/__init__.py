"""Pure helpers that every layer may use: config walking, the arm vocabulary and the
formats of the records a run writes. Nothing here imports another mmrethink package."""
