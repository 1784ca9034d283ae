# The mds image: this repository with its npm packages, running the CLI (`mds`). localstack/docker-compose.yml
# builds it and runs `mds local up` against the compose file's Kafka, S3 server and Postgres
# (docs/docker.md). TypeScript runs through tsx, as on a laptop, so there is no build step; the cloud
# assembly the local pipeline runs is synthesized in the container at start-up.
# To pin the base image's bytes, add its digest (docker buildx imagetools inspect node:22-bookworm-slim)
# as FROM ...@sha256:<digest>.
FROM node:22-bookworm-slim

WORKDIR /usr/app/mds
# The packages first, so a source change does not reinstall them; patches/ is applied by npm ci's
# postinstall (patch-package).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY . .
# Never run as root; the data directory (broker logs of an embedded broker, run summaries, the schedule) is
# a volume owned by the node user.
RUN mkdir -p /data && chown -R node:node /data /usr/app/mds
USER node

ENV MDS_DASHBOARD_HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["node", "bin/mds.mjs"]
CMD ["local", "up", "--data", "/data"]
