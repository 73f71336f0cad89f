"""aejax: autoencoders and denoising autoencoders for manifold learning, in JAX/Flax.

Read it in three levels; each imports only the levels below it.

1. The science: `train` (the one trainer: `train_step`, `evaluate`), `objectives`
   (the loss of every variant), `models` (the architectures), `data` (datasets,
   corruptions, augmentations), `optim`, `stacked` (layer-wise pretraining),
   `variants` (what is special about each variant) and `config` (the settings of
   each experiment in sections: data, model, objective, optimiser, run; the
   command line is made from them). Below them: `units`
   (per-pixel MSE in [0, 1] units, PSNR), `chunks` (a split measured a chunk at a
   time), `types` (the API's array shapes) and `errors`.
2. The measurements: `evaluators` (the manifold's metrics, PCA, log-likelihood).
3. The report (`report`: pictures, report.html, TensorBoard) and the run
   (`run`: workdir, checkpoints, devices and processes, the command line, sweeps).
"""
from aejax.data.corruptions import CORRUPTIONS
from aejax.models import AutoEncoder
from aejax.objectives import OBJECTIVES
from aejax.optim import make_optimizer
from aejax.train import TrainState, create_train_state, eval_step, evaluate, train_epoch, train_step
from aejax.units import per_pixel_mse, psnr

__all__ = ["AutoEncoder", "CORRUPTIONS", "OBJECTIVES", "TrainState", "create_train_state",
           "eval_step", "evaluate", "make_optimizer", "per_pixel_mse", "psnr", "train_epoch",
           "train_step"]
