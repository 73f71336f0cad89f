"""What a person looks at: the pictures (PNG and PDF), report.html of a run,
sweep.html of a sweep, and the TensorBoard scalars. Drawn from the metrics that
aejax.evaluators measures; nothing here trains or reads a checkpoint."""
