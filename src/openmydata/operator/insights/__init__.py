"""What the operator makes of a person's combined data: credit features, the credit model and its report."""
