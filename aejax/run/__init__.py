"""The machinery of a run: `experiment` (prepare, train, finish), its workdir and
records, checkpoints, devices and processes (`parallel`), the command line
(`cli`), provenance, the analysis step, and sweeps. A researcher changing a model
or a loss never needs to open it."""
