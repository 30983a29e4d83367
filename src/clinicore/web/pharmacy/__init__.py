"""The pharmacy desk (``/pharmacy``): a partner pharmacy's users confirm and ship its prescriptions."""
