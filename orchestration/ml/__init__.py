"""Predictive tags: churn risk, purchase propensity and behaviour clusters, trained with
scikit-learn on marts.customer_features and written back to the `ml` schema."""
