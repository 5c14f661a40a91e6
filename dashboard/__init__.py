"""The operator dashboard: a Streamlit app over the API (one module per page in `views/`)."""
