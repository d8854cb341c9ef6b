"""CS-UNet models, registered in mmseg's ``MODELS`` registry on import."""
