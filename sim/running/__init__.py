"""Running the model: the command line (:mod:`sim.running.cli`) and what it checks before Hydra
runs anything (:mod:`sim.running.preflight`), composing configs (:mod:`sim.running.compose`),
one run into a results folder (:mod:`sim.running.run`), its figures (:mod:`sim.running.figures`),
the words for a world's places and a scenario's meta (:mod:`sim.running.labels`), where configs,
data and results are (:mod:`sim.running.paths`) and the generated sections of the
docs (:mod:`sim.running.docs`)."""
