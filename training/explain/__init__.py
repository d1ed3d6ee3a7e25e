"""Explanations and input trust computed inside the exported graph.

- :mod:`.integrate`: integrated gradients with the interpolation steps as one batch;
- :mod:`.trust`: distance-from-training estimators, fitted with numpy and evaluated in the graph;
- :mod:`.ood`: deliberately out-of-distribution inputs that trust must flag;
- :mod:`.evaluate`: completeness on the test split, detection and false-alarm rates;
- :mod:`.report`: runs the exported signatures over the held-out data at training time.

The models' own signatures are in :mod:`training.models.fuel_explain` and
:mod:`training.models.defect_explain`.
"""
