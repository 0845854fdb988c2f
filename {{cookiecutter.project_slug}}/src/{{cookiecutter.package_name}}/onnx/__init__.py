"""The champion as one ONNX graph: conversion, our converters, the text lookup, the parity check."""
