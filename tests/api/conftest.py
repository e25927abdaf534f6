from tests.grids.conftest import categories  # noqa: F401  (the default incident categories)
