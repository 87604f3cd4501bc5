"""The kernel every app may use: infrastructure with no domain knowledge, importing no app."""
