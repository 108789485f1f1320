"""How one service reacts to another: S3 object changes become Lambda Event invocations."""
