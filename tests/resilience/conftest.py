# The API tests' clients signed in per role, over the shared ``world`` (tests/conftest.py).
from tests.api.conftest import client_for  # noqa: F401
