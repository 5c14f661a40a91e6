-- Runs once, when the `postgres` service starts on an empty volume (docker-entrypoint-initdb.d),
-- as POSTGRES_USER. One server, one database per tool; the names match ENERGY_*_DB in
-- docker-compose.yml and the defaults of energy_assets.settings.
CREATE DATABASE dagster;
CREATE DATABASE mlflow;
CREATE DATABASE prefect;

-- Prefect's server uses trigram indexes for its search; the extension must exist in its database.
\connect prefect
CREATE EXTENSION IF NOT EXISTS pg_trgm;
