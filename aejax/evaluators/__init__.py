"""Measurements of a trained state: the manifold's metrics (kNN and linear-probe
accuracy, trustworthiness, continuity), the PCA baseline, and the VAE's
importance-weighted log-likelihood. They read the science below them (train,
models, objectives, data) and nothing of the run or the report."""
