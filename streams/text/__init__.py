"""Text handling: normalisation, morphology, languages and country names."""
