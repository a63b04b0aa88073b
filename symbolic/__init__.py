"""stepgrad's symbolic core: spec -> symbolic model -> derivation, no file system."""
