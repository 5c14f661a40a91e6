"""The API's routes, one module per concern (FastAPI's bigger-applications layout); `api.app` includes them."""
