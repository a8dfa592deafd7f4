"""Training one model of the recipe: step-indexed batches, the shared step, the loop and its faults."""
