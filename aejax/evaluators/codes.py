"""The learned manifold, measured on the codes of the test split: kNN and
linear-probe accuracy (labelled data), trustworthiness and continuity
(aejax.evaluators.metrics); `notes` says what the data leaves out, and why."""
import numpy as np

from aejax.evaluators import Column, Evaluator, metrics

UNLABELLED = "no labels: the kNN accuracy and the linear probe are not measured"


def code_metrics(train_codes, test_codes, dataset, neighbourhood, test_pixels):
  """kNN and linear-probe accuracy (labelled data only), trustworthiness and
  continuity of a code ([N, d] train and test codes); test_pixels: [N, H, W, C] in [0, 1]."""
  near = test_pixels[neighbourhood].reshape(len(neighbourhood), -1)
  out = {}
  if dataset.labelled:
    out["knn_accuracy"] = metrics.knn_accuracy(train_codes, dataset.train_labels, test_codes,
                                               dataset.test_labels, k=5)
  if dataset.labelled and len(np.unique(dataset.train_labels)) > 1:
    out["linear_probe_accuracy"] = metrics.linear_probe_accuracy(
        train_codes, dataset.train_labels, test_codes, dataset.test_labels)
  if len(near) > 2 * metrics.NEIGHBOURS:
    out["trustworthiness"] = metrics.trustworthiness(near, test_codes[neighbourhood])
    out["continuity"] = metrics.continuity(near, test_codes[neighbourhood])
  return out


def notes(dataset):
  """What the analysis of `dataset` leaves out, and why."""
  out = [UNLABELLED] if not dataset.labelled else []
  if dataset.labelled and len(np.unique(dataset.train_labels)) < 2:
    out.append("one class in the training split: the linear probe is not measured")
  if len(dataset.test_images) <= 2 * metrics.NEIGHBOURS:
    out.append(f"{len(dataset.test_images)} test images: trustworthiness and continuity need "
               f"more than {2 * metrics.NEIGHBOURS}")
  return out


def measure(subject):
  out = code_metrics(subject.train_codes, subject.test_codes, subject.dataset, subject.neighbourhood,
                     subject.test_pixels)
  left_out = notes(subject.dataset)
  return {**out, "notes": left_out} if left_out else out


EVALUATOR = Evaluator("codes", measure, order=30, columns=(
    Column("knn_accuracy", "5-NN accuracy of the codes", "5-NN acc.",
           "fraction of test codes whose 5 nearest training codes vote right", units="fraction",
           fmt=".3f", plotted=True),
    Column("linear_probe_accuracy", "linear-probe accuracy", "linear probe",
           "accuracy of a logistic regression on the codes", units="fraction", fmt=".3f"),
    Column("trustworthiness", "trustworthiness", "trustw.", "k = 5, 1 is best", units="k = 5", fmt=".3f",
           plotted=True),
    Column("continuity", "continuity", "continuity", "k = 5, 1 is best", units="k = 5", fmt=".3f"),
))
