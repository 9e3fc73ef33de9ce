"""Other forms of the migrant rules: the compiled kernels (:mod:`sim.engines.compiled`,
``run.engine=numba``, bit-identical to the numpy definition) and the reference model with one
Mesa agent per person (:mod:`sim.engines.reference`, the benchmark's baseline)."""
