"""The trained model as one object (`Predictor`): the model folder, raw input to model input,
the ONNX Runtime and scikit-learn runtimes, batch scoring. Imports neither MLflow nor the
training stack."""
