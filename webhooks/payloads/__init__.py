"""Turn raw webhook items into small typed objects: the only code that reads Meta's raw keys."""
