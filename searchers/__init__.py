"""The searcher plugins: random (the space's own sampling), TPE (Optuna's sampler) and BOHB.

Found by name through the ``tunebench.searchers`` entry-point group; the core never imports
this package.
"""
