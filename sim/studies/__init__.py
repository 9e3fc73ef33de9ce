"""Studies made of many runs: sweeps (:mod:`sim.studies.sweep`, their Hydra callbacks
:mod:`sim.studies.callbacks`, gathering :mod:`sim.studies.gather`), global sensitivity
(:mod:`sim.studies.sensitivity`), calibration against the record (:mod:`sim.studies.calibration`,
:mod:`sim.studies.calibration_report`, the targets and observation models
:mod:`sim.studies.targets`), and counterfactual ensembles with their report
(:mod:`sim.studies.ensemble`, :mod:`sim.studies.report`)."""
