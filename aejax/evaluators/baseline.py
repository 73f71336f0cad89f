"""PCA beside every model: a linear code with as many components as the model's,
fitted on the training split, and its figures (pca_test_mse, pca_knn_accuracy, ...)."""
import numpy as np

from aejax import train, units
from aejax.evaluators import Column, Evaluator, codes, metrics, pca


def pca_metrics(latent_dim, dataset):
  """The PCA baseline's figures with `latent_dim` components: the same for every model of a sweep."""
  train_pixels = train.as_pixels(dataset.train_images)
  test_pixels = train.as_pixels(dataset.test_images)
  neighbourhood = metrics.subset(len(test_pixels), metrics.N_NEIGHBOURHOOD)
  fitted = pca.fit(train_pixels, latent_dim)
  pca_train, pca_test = fitted.encode(train_pixels), fitted.encode(test_pixels)
  flat = test_pixels.reshape(len(test_pixels), -1)
  pca_mse = float(np.mean(np.square(np.clip(fitted.decode(pca_test), 0, 1) - flat)))
  out = {"pca_test_mse": pca_mse, "pca_test_psnr": units.psnr(pca_mse)}
  out.update({f"pca_{k}": v for k, v in
              codes.code_metrics(pca_train, pca_test, dataset, neighbourhood, test_pixels).items()})
  return out


def measure(subject):
  if "pca" not in subject.shared:
    subject.shared["pca"] = pca_metrics(subject.config.model.latent_dim, subject.dataset)
  return subject.shared["pca"]


EVALUATOR = Evaluator("pca", measure, order=40, columns=(
    Column("pca_test_mse", "PCA test per-pixel MSE", "PCA test MSE",
           "the same for PCA with as many components as the code, [0, 1] units",
           units="[0, 1] units"),))
