"""The paper's figures and tables from real runs: curves, sample accounting, results."""
