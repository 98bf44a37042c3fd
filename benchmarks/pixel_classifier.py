"""A learned option measured, not shipped: a pixel classifier against the
nuclei preset, on the development and the validation sets.

Issue 16 asks for a learned option if the classical methods stall. This
script builds the ilastik-style one it suggests and prints how it does, so
that the decision not to ship it can be checked and redone:

* **features** (25 per pixel): the intensity normalised per image (0 at the
  background level, 1 at the 99.5th percentile), then at four scales
  (0.05, 0.1, 0.2, 0.35 x the estimated diameter *d*, at least 0.5 px):
  Gaussian, Gaussian minus the local background (Gaussian of 1.5 *d*),
  log signal-to-noise, gradient magnitude and the two Hessian eigenvalues
  (scale-normalised). Every length follows *d*, as in the preset, so one
  model can serve images of any magnification.
* **classes**: background, nucleus interior, nucleus boundary (2 px inside
  every true label's edge), from the instance labels.
* **model**: a multilayer perceptron (25 -> 64 -> 64 -> 3, ReLU, softmax),
  trained here with Adam in numpy (seeded; 15,000 pixels per image, classes
  weighted to balance), so it needs no new dependency.
* **objects**: the pixels whose most likely class is the interior, holes
  filled, split by the preset's declumping, then grown into every pixel not
  most likely background (watershed on the interior probability); pieces
  below a disc of 0.22 *d* dropped.

Trained only on development images with instance labels (BBBC039, DSB2018,
stardist 2D; CC0 / BSD). First each development data set held out in turn
(trained on the others), then one model on all of them run on the
validation sets once.

Usage::

    python benchmarks/pixel_classifier.py            # ~3 min on 2 cores

Measured (2026-12-05, this machine): held-out development BBBC039 2.8% /
F1 0.925, DSB2018 10.5% / 0.838 (the preset, tuned there: 1.7% / 0.939 and
7.5% / 0.880); validation DSB2018 test 58.6% / 0.631, NIH3T3 136% / 0.443,
U2OS 46.3% / 0.795 (the preset: 17.7% / 0.761, 32.7% / 0.636, 15.9% /
0.890), at 1.1-10.6 s per image against 0.1-1.6 s. Twelve training images
of two kinds do not carry to other images: not shipped
(benchmarks/README.md, "Not done").
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage import feature, segmentation

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import accuracy  # noqa: E402
from scripts.algorithms.diameter import expected_diameter_px  # noqa: E402
from scripts.algorithms.levels import background_stats  # noqa: E402
from scripts.steps.label import declump_objects  # noqa: E402
from scripts.tables.evaluate import evaluate_image  # noqa: E402

#: Feature scales as fractions of the expected diameter d.
SCALES_D = (0.05, 0.1, 0.2, 0.35)
#: Development data sets with instance labels, the training data.
TRAINING_SETS = ("BBBC039", "DSB2018", "stardist 2D")
PIXELS_PER_IMAGE = 15000
HIDDEN = (64, 64)
EPOCHS = 40
BOUNDARY_PX = 2


def pixel_features(image, diameter_px):
    """(pixels, 25) float32 features of a 2D gray image (module docstring)."""
    values = image.astype(np.float32)
    level, noise = background_stats(values)
    span = max(float(np.percentile(values, 99.5)) - level, 1e-6)
    normalised = (values - level) / span
    snr_factor = span / max(noise, 1e-3 * span)
    local_background = ndi.gaussian_filter(normalised, 1.5 * diameter_px)
    columns = [normalised]
    for fraction in SCALES_D:
        sigma = max(fraction * diameter_px, 0.5)
        smooth = ndi.gaussian_filter(normalised, sigma)
        hrr, hrc, hcc = feature.hessian_matrix(
            normalised, sigma=sigma, order="rc", use_gaussian_derivatives=True
        )
        mean, spread = (hrr + hcc) / 2, np.sqrt(((hrr - hcc) / 2) ** 2 + hrc**2)
        columns += [
            smooth,
            smooth - local_background,
            np.log1p(np.clip(smooth * snr_factor, 0, None)) / 5,
            ndi.gaussian_gradient_magnitude(normalised, sigma) * sigma,
            (mean + spread) * sigma**2,
            (mean - spread) * sigma**2,
        ]
    return np.stack([column.astype(np.float32).ravel() for column in columns], axis=1)


def pixel_classes(labels):
    """Per pixel 0 background, 1 interior, 2 boundary (int64, raveled)."""
    boundary = segmentation.find_boundaries(labels, mode="inner")
    boundary = ndi.binary_dilation(boundary, iterations=BOUNDARY_PX - 1) & (labels > 0)
    classes = (labels > 0).astype(np.int64)
    classes[boundary] = 2
    return classes.ravel()


class Perceptron:
    """A small ReLU network with a softmax output, trained with Adam."""

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.weights = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes, sizes[1:])]
        self.biases = [np.zeros(b) for b in sizes[1:]]

    def _layers(self, inputs):
        activations = [inputs]
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            out = activations[-1] @ weight + bias
            activations.append(np.maximum(out, 0) if index < len(self.weights) - 1 else out)
        logits = activations[-1] - activations[-1].max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True), activations

    def probabilities(self, inputs):
        return self._layers(inputs)[0]

    def fit(self, inputs, classes, sample_weights, epochs, seed=0, batch=1024, rate=2e-3):
        rng = np.random.default_rng(seed)
        parameters = self.weights + self.biases
        first = [np.zeros_like(p) for p in parameters]
        second = [np.zeros_like(p) for p in parameters]
        step = 0
        for _ in range(epochs):
            order = rng.permutation(len(inputs))
            for start in range(0, len(inputs), batch):
                rows = order[start : start + batch]
                probabilities, activations = self._layers(inputs[rows])
                grad = probabilities.copy()
                grad[np.arange(len(rows)), classes[rows]] -= 1
                grad *= (sample_weights[rows] / sample_weights[rows].sum())[:, None]
                grad_w, grad_b = [None] * len(self.weights), [None] * len(self.biases)
                for index in range(len(self.weights) - 1, -1, -1):
                    grad_w[index] = activations[index].T @ grad + 1e-5 * self.weights[index]
                    grad_b[index] = grad.sum(axis=0)
                    if index:
                        grad = (grad @ self.weights[index].T) * (activations[index] > 0)
                step += 1
                for k, (parameter, gradient) in enumerate(zip(parameters, grad_w + grad_b)):
                    first[k] = 0.9 * first[k] + 0.1 * gradient
                    second[k] = 0.999 * second[k] + 0.001 * gradient**2
                    parameter -= (
                        rate
                        * (first[k] / (1 - 0.9**step))
                        / (np.sqrt(second[k] / (1 - 0.999**step)) + 1e-8)
                    )


class Item:
    """One image with its labels, d and (cached) features."""

    def __init__(self, group, name, image, labels, true_count):
        self.group, self.name, self.image, self.labels = group, name, image, labels
        self.true_count = true_count
        self.diameter_px, _ = expected_diameter_px(image)
        self._features = None

    @property
    def features(self):
        if self._features is None:
            self._features = pixel_features(self.image, self.diameter_px)
        return self._features


def train(items, seed=0):
    """A :class:`Perceptron` and its feature scaling, trained on `items`."""
    rng = np.random.default_rng(seed)
    inputs, classes = [], []
    for item in items:
        target = pixel_classes(item.labels)
        rows = rng.choice(target.size, min(PIXELS_PER_IMAGE, target.size), replace=False)
        inputs.append(item.features[rows])
        classes.append(target[rows])
    inputs, classes = np.concatenate(inputs), np.concatenate(classes)
    weights = (classes.size / (3 * np.bincount(classes, minlength=3)))[classes]
    mean, scale = inputs.mean(axis=0), inputs.std(axis=0) + 1e-6
    model = Perceptron((inputs.shape[1], *HIDDEN, 3), seed=seed)
    model.fit((inputs - mean) / scale, classes, weights, EPOCHS, seed=seed)
    return model, mean, scale


def segment(trained, item, label_settings):
    """Instance labels of one image from the classifier (module docstring)."""
    model, mean, scale = trained
    probabilities = model.probabilities((item.features - mean) / scale)
    probabilities = probabilities.reshape(*item.image.shape, 3)
    interior = probabilities[..., 1]
    core = ndi.binary_fill_holes(probabilities.argmax(axis=-1) == 1)
    seeds, _ = declump_objects(core, label_settings, item.diameter_px, item.image)
    foreground = (probabilities[..., 0] < 0.5) | (seeds > 0)
    labels = segmentation.watershed(-interior, seeds.astype(np.int32), mask=foreground)
    areas = np.bincount(labels.ravel())
    small = areas < 0.05 * np.pi * item.diameter_px**2 / 4
    small[0] = False
    labels[small[labels]] = 0
    return segmentation.relabel_sequential(labels)[0]


def evaluate(trained, items, label_settings):
    """Mean count error, mean F1 and seconds per image over `items`."""
    errors, scores, start = [], [], time.perf_counter()
    for item in items:
        labels = segment(trained, item, label_settings)
        record = evaluate_image(labels, true_labels=item.labels, true_count=item.true_count)
        errors.append(record["count_error"])
        scores.append(record["f1"])
    return np.mean(errors), np.nanmean(scores), (time.perf_counter() - start) / len(items)


def items_of(folder, groups=None):
    return [
        Item(group, name, image, labels, count)
        for group, name, image, labels, count, _ in accuracy.image_rows(folder)
        if image.ndim == 2 and labels is not None and (groups is None or group in groups)
    ]


def main():
    label_settings = accuracy.preset_config("nuclei")["label"]
    development = items_of(accuracy.DEFAULT_DATA, TRAINING_SETS)
    if not development:
        print(f"no development images at {accuracy.DEFAULT_DATA}: nothing to train on")
        return 0
    rows = []
    for held_out in ("BBBC039", "DSB2018"):
        trained = train([item for item in development if item.group != held_out])
        tested = [item for item in development if item.group == held_out]
        rows.append(("development, held out", held_out, len(tested), *evaluate(trained, tested, label_settings)))
    trained = train(development)
    for set_name, folder, why in accuracy.data_folders(["validation"]):
        if folder is None:
            print(why)
            continue
        by_group = {}
        for item in items_of(folder):
            by_group.setdefault(item.group, []).append(item)
        for group, items in by_group.items():
            rows.append(("validation", group, len(items), *evaluate(trained, items, label_settings)))
    print(f"{'set':24s} {'data set':20s} {'images':>6s} {'count err':>9s} {'F1@0.5':>7s} {'s/img':>6s}")
    for set_name, group, count, error, f1, seconds in rows:
        print(f"{set_name:24s} {group:20s} {count:6d} {error:9.1%} {f1:7.3f} {seconds:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
