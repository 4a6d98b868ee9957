"""Head-to-head comparisons: a matrix of contenders (our schedulers and peers) run cell by cell."""
