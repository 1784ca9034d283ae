"""Entrypoint of the dbt Fargate task (dbt-core 1.10.15, see the Dockerfile).

1. Fetches the Snowflake private key (PEM) from Secrets Manager (SNOWFLAKE_SECRET_ARN, the same secret and
   variable as the Lambdas; the secret is the PEM itself or JSON with "privateKey" or "private_key" and
   optionally "passphrase") and writes it to a 0600 file for the key-pair auth of profiles.yml.
2. Runs `dbt source freshness` for DBT_TARGET. A source past its error_after (or whose freshness query
   failed) fails the run with its cause, named in the log, and the build does not run on stale Bronze.
3. Runs `dbt build` (optionally DBT_SELECT, DBT_FULL_REFRESH=true, DBT_VARS as YAML).
4. Uploads target/manifest.json, target/run_results.json, target/sources.json and logs/dbt.log to
   s3://ARTIFACTS_BUCKET/ARTIFACTS_PREFIX/ (runs/<runId>/dbt/, beside the run summary), whatever failed.
5. Exits with dbt's exit code (non-zero when a source is stale or any node failed), or 3 when only the
   upload failed.
"""

import json
import os
import subprocess
import sys
import tempfile

import boto3

PROJECT_DIR = os.environ.get("DBT_PROJECT_DIR", "/usr/app/dbt")

# What the run summary links to: dbt's artifacts (manifest v12, run_results v6, sources v3) and the log.
ARTIFACTS = ("target/manifest.json", "target/run_results.json", "target/sources.json", "logs/dbt.log")


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


def dbt_args(*command):
    target = os.environ.get("DBT_TARGET", "snowflake")
    return ["dbt", *command, "--target", target, "--project-dir", PROJECT_DIR, "--profiles-dir", PROJECT_DIR]


def run_freshness():
    """`dbt source freshness`; on failure, logs each source that is stale or could not be checked, and why."""
    args = dbt_args("source", "freshness")
    log("running " + " ".join(args))
    code = subprocess.call(args, cwd=PROJECT_DIR)
    if code == 0:
        return 0
    causes = freshness_causes(os.path.join(PROJECT_DIR, "target", "sources.json"))
    for cause in causes or [f"dbt source freshness exited {code} and wrote no result naming a source"]:
        print(json.dumps({"level": "ERROR", "message": f"source freshness: {cause}"}), flush=True)
    return code


def freshness_causes(path):
    """The sources.json results that fail the run (dbt: status error or runtime error), as sentences."""
    try:
        with open(path, encoding="utf-8") as handle:
            results = json.load(handle).get("results", [])
    except (OSError, ValueError):
        return []
    causes = []
    for result in results:
        status = result.get("status")
        if status == "error":
            error_after = (result.get("criteria") or {}).get("error_after") or {}
            age = result.get("max_loaded_at_time_ago_in_s")
            causes.append(
                f"{result.get('unique_id')} is stale: newest row loaded at {result.get('max_loaded_at')}"
                f" ({age if age is None else round(age)} s ago), error after"
                f" {error_after.get('count')} {error_after.get('period')}"
            )
        elif status == "runtime error":
            causes.append(f"{result.get('unique_id')} could not be checked: {result.get('error') or result.get('message')}")
    return causes


def run_dbt():
    args = dbt_args("build")
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
    for relative in ARTIFACTS:
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
    code = run_freshness()
    if code != 0:
        upload_artifacts()
        log(f"dbt source freshness failed with exit code {code}; dbt build did not run")
        sys.exit(code)
    code = run_dbt()
    uploaded = upload_artifacts()
    if code != 0:
        log(f"dbt build failed with exit code {code}")
        sys.exit(code)
    sys.exit(0 if uploaded else 3)


if __name__ == "__main__":
    main()
