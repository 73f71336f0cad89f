"""aejax: autoencoders and denoising autoencoders for manifold learning, in JAX/Flax."""
from aejax.corruptions import CORRUPTIONS
from aejax.losses import per_pixel_mse, psnr
from aejax.objectives import OBJECTIVES
from aejax.models import AutoEncoder
from aejax.train import (TrainState, create_train_state, eval_step, evaluate, make_optimizer,
                         train_epoch, train_step)

__all__ = ["AutoEncoder", "CORRUPTIONS", "OBJECTIVES", "TrainState", "create_train_state",
           "eval_step", "evaluate", "make_optimizer", "per_pixel_mse", "psnr", "train_epoch",
           "train_step"]
