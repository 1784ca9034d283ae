-- One-time Snowflake setup for the Spotify modern data stack.
-- Run as ACCOUNTADMIN (or a role with CREATE INTEGRATION, CREATE ROLE, CREATE USER, CREATE DATABASE,
-- CREATE WAREHOUSE). Replace the <...> placeholders; keep the other names or change them everywhere
-- (the SNOWFLAKE_* settings of the loader and dbt, the README, section "Warehouse and the Bronze loader").
-- Check the result with: mds doctor --target snowflake

USE ROLE ACCOUNTADMIN;

-- 1. Compute: a small warehouse that suspends itself when idle.
CREATE WAREHOUSE IF NOT EXISTS MDS_WH
  WAREHOUSE_SIZE = XSMALL
  AUTO_SUSPEND = 60
  AUTO_RESUME = TRUE
  INITIALLY_SUSPENDED = TRUE;

-- 2. Storage: the database and the medallion schemas (docs/data-model.md).
CREATE DATABASE IF NOT EXISTS SPOTIFY_MDS;
CREATE SCHEMA IF NOT EXISTS SPOTIFY_MDS.BRONZE;
CREATE SCHEMA IF NOT EXISTS SPOTIFY_MDS.SILVER;
CREATE SCHEMA IF NOT EXISTS SPOTIFY_MDS.GOLD;

-- 3. The role the loader and dbt use, and what it may do.
CREATE ROLE IF NOT EXISTS MDS_LOADER_ROLE;
GRANT USAGE ON WAREHOUSE MDS_WH TO ROLE MDS_LOADER_ROLE;
GRANT USAGE ON DATABASE SPOTIFY_MDS TO ROLE MDS_LOADER_ROLE;
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA SPOTIFY_MDS.BRONZE TO ROLE MDS_LOADER_ROLE;
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA SPOTIFY_MDS.SILVER TO ROLE MDS_LOADER_ROLE;
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA SPOTIFY_MDS.GOLD TO ROLE MDS_LOADER_ROLE;
GRANT SELECT, INSERT, UPDATE, DELETE ON FUTURE TABLES IN DATABASE SPOTIFY_MDS TO ROLE MDS_LOADER_ROLE;
GRANT ROLE MDS_LOADER_ROLE TO ROLE SYSADMIN;

-- 4. The service user: key-pair (JWT) authentication only, no password.
--    Make the key pair (unencrypted PKCS#8 private key):
--      openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -out rsa_key.p8 -nocrypt
--      openssl rsa -in rsa_key.p8 -pubout -out rsa_key.pub
--    Put the private key into the stack's Snowflake key secret as JSON {"privateKey": "<PEM text>"}
--      aws secretsmanager put-secret-value --secret-id <secret ARN> \
--        --secret-string "$(jq -Rs '{privateKey: .}' rsa_key.p8)"
--    and the public key (the base64 body, without the BEGIN/END lines) here:
CREATE USER IF NOT EXISTS MDS_LOADER
  TYPE = SERVICE
  DEFAULT_ROLE = MDS_LOADER_ROLE
  DEFAULT_WAREHOUSE = MDS_WH
  RSA_PUBLIC_KEY = '<public key body>';
GRANT ROLE MDS_LOADER_ROLE TO USER MDS_LOADER;
-- Rotation: ALTER USER MDS_LOADER SET RSA_PUBLIC_KEY_2 = '<new key>'; update the secret; then
-- ALTER USER MDS_LOADER UNSET RSA_PUBLIC_KEY;

-- 5. Key-less access to the Bronze bucket: a storage integration trusted by the IAM role the stack
--    creates (its ARN is a stack output).
CREATE STORAGE INTEGRATION IF NOT EXISTS MDS_BRONZE_S3
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = '<storage integration role ARN>'
  STORAGE_ALLOWED_LOCATIONS = ('s3://<bronze bucket>/bronze/');
--    Then copy STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID from
DESC INTEGRATION MDS_BRONZE_S3;
--    into the stack's configuration (the role's trust policy) and deploy again.
GRANT USAGE ON INTEGRATION MDS_BRONZE_S3 TO ROLE MDS_LOADER_ROLE;

-- 6. The external stage over the Bronze prefix. The loader names files relative to this URL in
--    COPY INTO ... FILES = (...), and rebuilds the object key as 'bronze/' || METADATA$FILENAME.
CREATE STAGE IF NOT EXISTS SPOTIFY_MDS.BRONZE.BRONZE_STAGE
  URL = 's3://<bronze bucket>/bronze/'
  STORAGE_INTEGRATION = MDS_BRONZE_S3
  FILE_FORMAT = (TYPE = JSON COMPRESSION = AUTO);
GRANT USAGE ON STAGE SPOTIFY_MDS.BRONZE.BRONZE_STAGE TO ROLE MDS_LOADER_ROLE;

-- 7. The loader creates BRONZE.LISTENING_EVENTS and BRONZE.LOAD_MANIFEST itself on its first run
--    (CREATE TABLE IF NOT EXISTS); `mds doctor --target snowflake` does it too.
