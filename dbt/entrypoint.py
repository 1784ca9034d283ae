"""Entrypoint of the dbt Fargate task.

1. Fetches the Snowflake private key (PEM) from Secrets Manager (SNOWFLAKE_SECRET_ARN, the same secret and
   variable as the Lambdas; the secret is the PEM itself or JSON with "privateKey" or "private_key" and
   optionally "passphrase") and writes it to a 0600 file for the key-pair auth of profiles.yml.
2. Runs `dbt build` for DBT_TARGET (optionally DBT_SELECT, DBT_FULL_REFRESH=true, DBT_VARS as YAML).
3. Uploads target/run_results.json and logs/dbt.log to s3://ARTIFACTS_BUCKET/ARTIFACTS_PREFIX/ for the run
   summary, even when the build failed.
4. Exits with dbt's exit code (non-zero when any node failed), or 3 when only the upload failed.
"""

import json
import os
import subprocess
import sys
import tempfile

import boto3

PROJECT_DIR = os.environ.get("DBT_PROJECT_DIR", "/usr/app/dbt")


def log(message):
    print(json.dumps({"level": "INFO", "message": message}), flush=True)


def require(name):
    value = os.environ.get(name)
    if not value:
        print(json.dumps({"level": "ERROR", "message": f"{name} is not set"}), flush=True)
        sys.exit(2)
    return value


def fetch_key():
    secret_arn = require("SNOWFLAKE_SECRET_ARN")
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    passphrase = ""
    pem = secret
    if secret.lstrip().startswith("{"):
        parsed = json.loads(secret)
        pem = parsed.get("privateKey") or parsed.get("private_key")
        if not pem:
            print(
                json.dumps(
                    {
                        "level": "ERROR",
                        "message": f"secret {secret_arn} is JSON without privateKey or private_key",
                    }
                ),
                flush=True,
            )
            sys.exit(2)
        passphrase = parsed.get("passphrase", "")
    fd, path = tempfile.mkstemp(prefix="snowflake-", suffix=".p8")
    with os.fdopen(fd, "w") as handle:
        handle.write(pem if pem.endswith("\n") else pem + "\n")
    os.chmod(path, 0o600)
    os.environ["SNOWFLAKE_PRIVATE_KEY_PATH"] = path
    os.environ["SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"] = passphrase
    log("fetched the Snowflake key from Secrets Manager")


def run_dbt():
    target = os.environ.get("DBT_TARGET", "snowflake")
    args = ["dbt", "build", "--target", target, "--project-dir", PROJECT_DIR, "--profiles-dir", PROJECT_DIR]
    if os.environ.get("DBT_SELECT"):
        args += ["--select", *os.environ["DBT_SELECT"].split()]
    if os.environ.get("DBT_FULL_REFRESH", "").lower() == "true":
        args.append("--full-refresh")
    if os.environ.get("DBT_VARS"):
        args += ["--vars", os.environ["DBT_VARS"]]
    log("running " + " ".join(args))
    return subprocess.call(args, cwd=PROJECT_DIR)


def upload_artifacts():
    bucket = require("ARTIFACTS_BUCKET")
    prefix = os.environ.get("ARTIFACTS_PREFIX", "dbt").strip("/")
    s3 = boto3.client("s3")
    ok = True
    for relative in ("target/run_results.json", "logs/dbt.log"):
        path = os.path.join(PROJECT_DIR, relative)
        if not os.path.exists(path):
            log(f"{relative} was not written; nothing to upload")
            ok = False
            continue
        key = f"{prefix}/{os.path.basename(relative)}"
        try:
            s3.upload_file(path, bucket, key)
            log(f"uploaded s3://{bucket}/{key}")
        except Exception as err:  # noqa: BLE001 - any upload failure fails the task, with its reason
            print(json.dumps({"level": "ERROR", "message": f"upload of {relative} failed: {err}"}), flush=True)
            ok = False
    return ok


def main():
    if os.environ.get("DBT_TARGET", "snowflake") == "snowflake":
        fetch_key()
    code = run_dbt()
    uploaded = upload_artifacts()
    if code != 0:
        log(f"dbt build failed with exit code {code}")
        sys.exit(code)
    sys.exit(0 if uploaded else 3)


if __name__ == "__main__":
    main()
