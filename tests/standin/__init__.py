"""The stand-in TAO image (tests only) and generators of small datasets in TAO's formats."""
