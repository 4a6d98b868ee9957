"""The searcher plugins: random (the space's own sampling), TPE (Optuna's sampler) and BOHB.

They live in the plugin package beside the schedulers that use them, found by name through the
``tunebench.searchers`` entry-point group; the core never imports this package.
"""
