"""The paper's evaluation: attribute detectors, a human parser, and the metrics table (needs timm)."""
