-- One-time Snowflake setup of the "dev" environment of the Spotify modern data stack.
-- Generated from lib/config/environments.ts by: mds snowflake setup-sql --env dev
-- Names come from the environment's `warehouse` settings; change them there (or with --overrides, as the
-- context key mds:dev) and generate again, never here. Run it as a user with the ACCOUNTADMIN
-- role, after the first deploy (docs/deploy.md, "First deploy, step by step"). Every statement is
-- IF NOT EXISTS or a GRANT, so running it again is safe. Then check with: mds doctor --target snowflake

USE ROLE ACCOUNTADMIN;

-- 1. The role the loader, the reconcile function and dbt use. SYSADMIN inherits it, so the administrators
--    who own the objects below can also see what it builds.
CREATE ROLE IF NOT EXISTS "MDS_DEV";
GRANT ROLE "MDS_DEV" TO ROLE SYSADMIN;

-- 2. The service user: key-pair (JWT) authentication only, no password. Make the key pair
--    (an unencrypted PKCS#8 private key and its public key):
--      openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -out rsa_key.p8 -nocrypt
--      openssl rsa -in rsa_key.p8 -pubout -out rsa_key.pub
--    Put the private key in the secret of the output SnowflakeKeySecretArn of Mds-dev-Pipeline:
--      aws secretsmanager put-secret-value --secret-id <SnowflakeKeySecretArn> \
--        --secret-string "$(jq -Rs '{privateKey: .}' rsa_key.p8)"
--    and replace <RSA_PUBLIC_KEY> with the body of rsa_key.pub (without the BEGIN/END lines):
--      grep -v -- '-----' rsa_key.pub | tr -d '\n'
--    If the user exists already (another environment uses it too), this statement changes nothing: that
--    environment's private key must then go into this environment's secret as well.
CREATE USER IF NOT EXISTS "MDS_LOADER"
  TYPE = SERVICE
  DEFAULT_ROLE = "MDS_DEV"
  DEFAULT_WAREHOUSE = "MDS_XS"
  RSA_PUBLIC_KEY = '<RSA_PUBLIC_KEY>';
GRANT ROLE "MDS_DEV" TO USER "MDS_LOADER";
-- Key rotation: ALTER USER "MDS_LOADER" SET RSA_PUBLIC_KEY_2 = '<new key>'; update the secret; then
-- ALTER USER "MDS_LOADER" UNSET RSA_PUBLIC_KEY;

-- 3. Key-less access to the Bronze bucket: a storage integration that assumes the IAM role the Pipeline
--    stack creates.
--    STORAGE_AWS_ROLE_ARN is the CloudFormation output StorageIntegrationRoleArn of Mds-dev-Pipeline,
--    the bucket is the output BronzeBucketName of Mds-dev-Storage:
--      aws cloudformation describe-stacks --stack-name Mds-dev-Pipeline \
--        --query "Stacks[0].Outputs[?OutputKey=='StorageIntegrationRoleArn'].OutputValue" --output text
--    (or pass --integration-role-arn and --bucket to mds snowflake setup-sql to fill them in).
CREATE STORAGE INTEGRATION IF NOT EXISTS "MDS_DEV_BRONZE_S3"
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = '<StorageIntegrationRoleArn of Mds-dev-Pipeline>'
  STORAGE_ALLOWED_LOCATIONS = ('s3://<BronzeBucketName of Mds-dev-Storage>/bronze/');
--    Copy STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID from the next statement into
--    warehouse.storageIntegration.principalArn and .externalId of the "dev" environment and deploy
--    Mds-dev-Pipeline again; until then the role trusts only the AWS account, and Snowflake cannot read Bronze.
DESC INTEGRATION "MDS_DEV_BRONZE_S3";
--    SYSADMIN creates the stage with it; the role uses it in every COPY from the stage.
GRANT USAGE ON INTEGRATION "MDS_DEV_BRONZE_S3" TO ROLE SYSADMIN;
GRANT USAGE ON INTEGRATION "MDS_DEV_BRONZE_S3" TO ROLE "MDS_DEV";

USE ROLE SYSADMIN;

-- 4. Compute: a warehouse that suspends itself when idle and resumes on the next statement.
CREATE WAREHOUSE IF NOT EXISTS "MDS_XS"
  WAREHOUSE_SIZE = XSMALL
  AUTO_SUSPEND = 60
  AUTO_RESUME = TRUE
  INITIALLY_SUSPENDED = TRUE;

-- 5. Storage: the database, the medallion schemas, the Bronze table and the load manifest
--    (docs/data-model.md). Owned by SYSADMIN: the role may load and read Bronze but not drop it.
CREATE DATABASE IF NOT EXISTS "MDS_DEV";
CREATE SCHEMA IF NOT EXISTS "MDS_DEV"."BRONZE";
CREATE SCHEMA IF NOT EXISTS "MDS_DEV"."SILVER";
CREATE SCHEMA IF NOT EXISTS "MDS_DEV"."GOLD";
CREATE TABLE IF NOT EXISTS "MDS_DEV"."BRONZE"."LISTENING_EVENTS" (
  EVENT_ID VARCHAR,
  USER_ID VARCHAR,
  SONG_ID VARCHAR,
  ARTIST_NAME VARCHAR,
  SONG_NAME VARCHAR,
  EVENT_TYPE VARCHAR,
  DEVICE_TYPE VARCHAR,
  COUNTRY VARCHAR,
  EVENT_TIMESTAMP TIMESTAMP_NTZ,
  DURATION_MS NUMBER(38,0),
  SCHEMA_VERSION NUMBER(10,0),
  KAFKA_TOPIC VARCHAR,
  KAFKA_PARTITION NUMBER(10,0),
  KAFKA_OFFSET NUMBER(38,0),
  KAFKA_TIMESTAMP TIMESTAMP_NTZ,
  SOURCE_FILE VARCHAR,
  SOURCE_ROW NUMBER(38,0),
  LOADED_AT TIMESTAMP_NTZ,
  ALBUM_NAME VARCHAR,
  TRACK_LENGTH_MS NUMBER(38,0),
  SOURCE VARCHAR
);
ALTER TABLE "MDS_DEV"."BRONZE"."LISTENING_EVENTS" ADD COLUMN IF NOT EXISTS ALBUM_NAME VARCHAR;
ALTER TABLE "MDS_DEV"."BRONZE"."LISTENING_EVENTS" ADD COLUMN IF NOT EXISTS TRACK_LENGTH_MS NUMBER(38,0);
ALTER TABLE "MDS_DEV"."BRONZE"."LISTENING_EVENTS" ADD COLUMN IF NOT EXISTS SOURCE VARCHAR;
CREATE TABLE IF NOT EXISTS "MDS_DEV"."BRONZE"."LOAD_MANIFEST" (
  OBJECT_KEY VARCHAR PRIMARY KEY,
  ETAG VARCHAR,
  STATUS VARCHAR NOT NULL,
  ROWS_LOADED NUMBER(38,0) NOT NULL,
  ERROR_COUNT NUMBER(10,0) NOT NULL,
  FIRST_ERROR VARCHAR,
  LOADED_AT TIMESTAMP_NTZ NOT NULL
);

-- 6. The external stage over the Bronze prefix. The loader names files relative to its URL in
--    COPY INTO ... FILES = (...) (with its own FILE_FORMAT, the same as the stage's) and rebuilds the
--    object key as 'bronze/' || METADATA$FILENAME.
CREATE STAGE IF NOT EXISTS "MDS_DEV"."BRONZE"."BRONZE_STAGE"
  URL = 's3://<BronzeBucketName of Mds-dev-Storage>/bronze/'
  STORAGE_INTEGRATION = "MDS_DEV_BRONZE_S3"
  FILE_FORMAT = (TYPE = JSON COMPRESSION = AUTO);

-- 7. What the role may do, and nothing more. Loader: COPY INTO the Bronze table (INSERT) from the stage
--    (USAGE on the stage and its integration), MERGE into the manifest (SELECT, INSERT, UPDATE), and the
--    reads of the manifest, of Bronze (reconcile) and of the stage (mds doctor: DESC and LIST). dbt: reads
--    Bronze, and creates the Silver and Gold tables and views (and the temporary relation of an
--    incremental model) in their schemas, which makes it their owner. A load runs no DDL, so the role
--    needs no CREATE privilege on the database or on the Bronze schema.
GRANT USAGE ON WAREHOUSE "MDS_XS" TO ROLE "MDS_DEV";
GRANT USAGE ON DATABASE "MDS_DEV" TO ROLE "MDS_DEV";
GRANT USAGE ON SCHEMA "MDS_DEV"."BRONZE" TO ROLE "MDS_DEV";
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA "MDS_DEV"."SILVER" TO ROLE "MDS_DEV";
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA "MDS_DEV"."GOLD" TO ROLE "MDS_DEV";
GRANT SELECT, INSERT ON TABLE "MDS_DEV"."BRONZE"."LISTENING_EVENTS" TO ROLE "MDS_DEV";
GRANT SELECT, INSERT, UPDATE ON TABLE "MDS_DEV"."BRONZE"."LOAD_MANIFEST" TO ROLE "MDS_DEV";
GRANT USAGE ON STAGE "MDS_DEV"."BRONZE"."BRONZE_STAGE" TO ROLE "MDS_DEV";
