#!/usr/bin/env bash
# An MLflow tracking server every Ray node can reach: a database backend for the runs and an
# artifact store for configs, results and figures. Pass its URL to `synthscale run
# --tracking-uri http://HOST:5000`. Replace the sqlite file by PostgreSQL/MySQL for many
# concurrent writers (postgresql://user:pass@db/mlflow), and the directory by s3://bucket/path.
set -euo pipefail
STORE=${MLFLOW_STORE:-sqlite:////srv/mlflow/mlflow.db}
ARTIFACTS=${MLFLOW_ARTIFACTS:-/srv/mlflow/artifacts}
PORT=${MLFLOW_PORT:-5000}
mkdir -p /srv/mlflow
exec mlflow server --backend-store-uri "$STORE" --artifacts-destination "$ARTIFACTS" \
    --serve-artifacts --host 0.0.0.0 --port "$PORT" --workers "${MLFLOW_WORKERS:-4}"
