#!/usr/bin/python3
"""Generate the iris test models: iris.onnx, iris.pt (TorchScript) and iris_expected.json.

The model is a small iris-style classifier: 4 measurements in centimetres (sepal length, sepal
width, petal length, petal width) -> Linear(4, 16) -> ReLU -> Linear(16, 3) -> softmax over
the classes setosa, versicolor, virginica. It is trained on synthetic measurements drawn from
normal distributions with the per-class means and standard deviations of Fisher's iris data,
so nothing is downloaded. Seeds are fixed and torch runs on one thread, so a rerun of the
unchanged script with the same packages writes the same files. TorchScript keeps source line
numbers, so editing this script changes iris.pt even when the weights stay the same.

Run with Debian's Python and packages (python3-torch 1.13, python3-onnx 1.12, python3-numpy):
    /usr/bin/python3 services/models/make_iris_models.py
"""

import json
import pathlib

import numpy as np
import onnx
import onnx.numpy_helper
import torch

OUTPUT_DIR = pathlib.Path(__file__).resolve().parent
CLASSES = ["setosa", "versicolor", "virginica"]

# Per-class mean and standard deviation of the four measurements in Fisher's iris data (cm).
CLASS_MEANS = np.array([
    [5.006, 3.428, 1.462, 0.246],
    [5.936, 2.770, 4.260, 1.326],
    [6.588, 2.974, 5.552, 2.026],
])
CLASS_STDS = np.array([
    [0.352, 0.379, 0.174, 0.105],
    [0.516, 0.314, 0.470, 0.198],
    [0.636, 0.322, 0.552, 0.275],
])

SAMPLES_PER_CLASS = 200
EPOCHS = 300
OPSET = 13

# Inputs the C++ tests run through both exported models. Each row is in centimetres.
FIXED_INPUTS = [
    [5.1, 3.5, 1.4, 0.2],  # a typical setosa
    [6.0, 2.8, 4.5, 1.4],  # a typical versicolor
    [6.7, 3.1, 5.8, 2.2],  # a typical virginica
    [6.2, 2.9, 4.9, 1.7],  # between versicolor and virginica
]


def make_dataset(rng):
    features = []
    labels = []
    for label, (mean, std) in enumerate(zip(CLASS_MEANS, CLASS_STDS)):
        features.append(rng.normal(mean, std, size=(SAMPLES_PER_CLASS, 4)))
        labels.append(np.full(SAMPLES_PER_CLASS, label))
    return np.concatenate(features).astype(np.float32), np.concatenate(labels).astype(np.int64)


class IrisClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 16)
        self.output = torch.nn.Linear(16, 3)

    def forward(self, x):
        return torch.softmax(self.output(torch.relu(self.hidden(x))), dim=1)


def train(features, labels):
    # Train on standardised features; the scaling is folded into the first layer below.
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    x = torch.from_numpy((features - mean) / std)
    y = torch.from_numpy(labels)

    model = IrisClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(EPOCHS):
        optimizer.zero_grad()
        logits = model.output(torch.relu(model.hidden(x)))
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()

    # Fold the standardisation into the first layer so the model takes centimetres:
    # W (x - mean) / std + b = (W / std) x + (b - W (mean / std)).
    with torch.no_grad():
        weight = model.hidden.weight.clone()
        scale = torch.from_numpy(1.0 / std)
        shift = torch.from_numpy(mean / std)
        model.hidden.weight.copy_(weight * scale)
        model.hidden.bias.sub_(weight @ shift)
    model.eval()
    return model, float(loss)


def numpy_forward(onnx_model, inputs):
    """Run the exported graph's weights with numpy, to check the ONNX file against torch."""
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in onnx_model.graph.initializer}
    hidden_weight = weights["hidden.weight"]
    hidden_bias = weights["hidden.bias"]
    output_weight = weights["output.weight"]
    output_bias = weights["output.bias"]
    hidden = np.maximum(inputs @ hidden_weight.T + hidden_bias, 0)
    logits = hidden @ output_weight.T + output_bias
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(0)

    features, labels = make_dataset(rng)
    model, loss = train(features, labels)
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(features)).argmax(dim=1).numpy() == labels).mean())

    example = torch.tensor(FIXED_INPUTS, dtype=torch.float32)
    scripted = torch.jit.trace(model, example)
    scripted.save(str(OUTPUT_DIR / "iris.pt"))

    onnx_path = OUTPUT_DIR / "iris.onnx"
    torch.onnx.export(
        model, example, str(onnx_path),
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True)
    onnx_model = onnx.load(str(onnx_path))
    onnx.checker.check_model(onnx_model)

    with torch.no_grad():
        torch_probabilities = model(example).numpy()
        reloaded = torch.jit.load(str(OUTPUT_DIR / "iris.pt"))(example).numpy()
    numpy_probabilities = numpy_forward(onnx_model, np.array(FIXED_INPUTS, dtype=np.float32))
    assert np.allclose(torch_probabilities, reloaded, atol=1e-7), "TorchScript reload differs"
    assert np.allclose(torch_probabilities, numpy_probabilities, atol=1e-6), "ONNX graph differs"

    expected = {
        "description": "Fixed inputs of services/models/iris.onnx and iris.pt and the class "
                       "probabilities torch computes for them; compare with a tolerance of 1e-5.",
        "input_name": "input",
        "output_name": "output",
        "classes": CLASSES,
        "tolerance": 1e-5,
        "training": {"accuracy": accuracy, "final_loss": loss},
        "cases": [
            {
                "input": {"dtype": 1, "shape": [1, 4], "values": row},
                "probabilities": [float(p) for p in probabilities],
                "class_index": int(np.argmax(probabilities)),
                "class": CLASSES[int(np.argmax(probabilities))],
            }
            for row, probabilities in zip(FIXED_INPUTS, torch_probabilities)
        ],
        "batch": {
            "input": {"dtype": 1, "shape": [len(FIXED_INPUTS), 4],
                      "values": [v for row in FIXED_INPUTS for v in row]},
            "probabilities": [float(p) for row in torch_probabilities for p in row],
            "shape": [len(FIXED_INPUTS), 3],
        },
    }
    (OUTPUT_DIR / "iris_expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(f"training accuracy {accuracy:.3f}, final loss {loss:.4f}")
    for case in expected["cases"]:
        print(case["input"]["values"], "->", case["class"],
              [round(p, 4) for p in case["probabilities"]])


if __name__ == "__main__":
    main()
