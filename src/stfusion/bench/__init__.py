"""Evaluation and benchmarking: methods × datasets × metrics, tables, figures and reports."""
